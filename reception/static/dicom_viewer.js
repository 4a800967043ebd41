// The DICOM series viewer: scroll through the slices without reloading the page.
// The page works without this script (the form and the links reload it); with it, the slider,
// the mouse wheel over the image, the arrow keys, Page Up/Down and Home/End on the image, the
// window buttons and the slice list change the image in place. The server draws every image;
// one is fetched at a time, and a scroll that outruns the server shows where it stopped.
// Every word comes from the page (data-* attributes and its elements), never from here.
(function () {
  "use strict";
  const form = document.getElementById("dicom-viewer");
  if (!form) return;
  const PAGE = 10;
  const viewport = document.getElementById("dicom-viewport");
  const image = document.getElementById("dicom-image");
  const problem = document.getElementById("dicom-problem");
  const broken = document.getElementById("dicom-broken");
  const why = document.getElementById("dicom-broken-why");
  const caption = document.getElementById("dicom-caption");
  const slider = document.getElementById("dicom-slice");
  const show = document.getElementById("dicom-show");
  const buttons = Array.from(form.querySelectorAll("button.dicom-window"));
  const items = Array.from(document.querySelectorAll("#dicom-slices li"));
  const template = form.dataset.sliceUrl;
  if (!viewport || !image || !slider || !items.length || !template) return;

  let position = Number(slider.value);  // 1-based, as in the address
  let windowName = (buttons.find(function (b) { return b.getAttribute("aria-pressed") === "true"; }) || {}).value || "default";
  let loading = false;
  let wanted = null;

  if (show) show.hidden = true;  // the slider acts at once

  function urlFor(item) {
    return template
      .replace("{id}", encodeURIComponent(item.dataset.id))
      .replace("{window}", encodeURIComponent(windowName))
      .replace("{frame}", encodeURIComponent(item.dataset.frame || "1"));
  }

  function load() {
    if (loading || wanted === null) return;
    const url = wanted;
    wanted = null;
    if (image.getAttribute("src") === url && image.complete) return;
    loading = true;
    image.src = url;
  }

  function finished() {
    loading = false;
    load();
  }

  image.addEventListener("load", function () {
    broken.hidden = true;
    finished();
  });
  image.addEventListener("error", function () {
    if (why) why.href = image.src;
    broken.hidden = false;
    finished();
  });

  function remember() {
    const address = new URL(window.location.href);
    address.searchParams.set("slice", String(position));
    address.searchParams.set("window", windowName);
    window.history.replaceState(null, "", address.toString());
    if (show) show.value = windowName;
  }

  function render() {
    const item = items[position - 1];
    const words = item.dataset.caption;
    slider.value = String(position);
    slider.setAttribute("aria-valuetext", words);
    caption.textContent = words;
    image.alt = words;
    for (const each of items) {
      const link = each.querySelector("a");
      if (!link) continue;
      if (each === item) link.setAttribute("aria-current", "true");
      else link.removeAttribute("aria-current");
      const address = new URL(link.href, window.location.href);
      address.searchParams.set("window", windowName);
      link.href = address.toString();
    }
    if (item.dataset.viewable === "true") {
      problem.hidden = true;
      image.hidden = false;
      wanted = urlFor(item);
      load();
    } else {
      broken.hidden = true;
      image.hidden = true;
      problem.textContent = item.dataset.problem;
      problem.hidden = false;
    }
    remember();
  }

  function go(to) {
    const next = Math.min(items.length, Math.max(1, to));
    if (next === position) return false;
    position = next;
    render();
    return true;
  }

  slider.addEventListener("input", function () { go(Number(slider.value)); });

  viewport.addEventListener("wheel", function (event) {
    if (event.ctrlKey || event.deltaY === 0) return;  // Ctrl+wheel zooms the page
    event.preventDefault();
    go(position + (event.deltaY > 0 ? 1 : -1));
  }, { passive: false });

  const STEPS = { ArrowDown: 1, ArrowRight: 1, ArrowUp: -1, ArrowLeft: -1, PageDown: PAGE, PageUp: -PAGE };
  viewport.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.key in STEPS) go(position + STEPS[event.key]);
    else if (event.key === "Home") go(1);
    else if (event.key === "End") go(items.length);
    else return;
    event.preventDefault();
  });

  for (const button of buttons) {
    button.addEventListener("click", function (event) {
      event.preventDefault();
      windowName = button.value;
      for (const each of buttons) each.setAttribute("aria-pressed", each === button ? "true" : "false");
      render();
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    render();
  });

  items.forEach(function (item, index) {
    const link = item.querySelector("a");
    if (!link) return;
    link.addEventListener("click", function (event) {
      if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
      event.preventDefault();
      go(index + 1);
      viewport.focus();
    });
  });
})();
