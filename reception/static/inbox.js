// Reception inbox: refresh the ticket list without a reload when tickets arrive or change.
// Rows are built with textContent only: patient text is never parsed as HTML.
// Its words come from the page: the data-* attributes of #inbox-live, in inbox.html.
(function () {
  "use strict";
  const POLL_MS = 3000;
  const COLUMNS = ["age", "due", "status_label", "kind_label", "cancer_type", "department", "name", "missing_records", "assignee"];
  const body = document.getElementById("tickets");
  if (!body) return;
  const live = document.getElementById("inbox-live");
  const total = document.getElementById("ticket-total");
  const empty = document.getElementById("no-tickets");

  function referencesOnPage() {
    return new Set(Array.from(body.rows, function (row) { return row.dataset.reference; }));
  }

  function buildRow(row, arrived) {
    const tr = document.createElement("tr");
    tr.className = "status-" + row.status + (arrived ? " arrived" : "");
    tr.dataset.reference = row.reference;
    const head = document.createElement("th");
    head.scope = "row";
    const link = document.createElement("a");
    link.href = row.url;
    link.textContent = row.reference;
    head.appendChild(link);
    tr.appendChild(head);
    for (const column of COLUMNS) {
      const cell = document.createElement("td");
      if (column === "age") {
        const time = document.createElement("time");
        time.dateTime = row.received_iso;
        time.title = row.received;
        time.textContent = row.age;
        cell.appendChild(time);
      } else if (column === "due") {
        cell.className = "due due-" + row.due_state;
        cell.title = row.due_target;
        cell.textContent = row.due;
      } else if (column === "status_label") {
        const badge = document.createElement("span");
        badge.className = "badge status-" + row.status;
        badge.textContent = row.status_label;
        cell.appendChild(badge);
        if (row.flag) {
          const flag = document.createElement("span");
          flag.className = "badge flag";
          flag.textContent = row.flag;
          cell.append(" ", flag);
        }
      } else {
        cell.textContent = String(row[column]);
      }
      tr.appendChild(cell);
    }
    return tr;
  }

  function redraw(feed) {
    const before = referencesOnPage();
    const focused = document.activeElement && body.contains(document.activeElement)
      ? document.activeElement.closest("tr").dataset.reference : null;
    const arrived = feed.rows.filter(function (row) { return !before.has(row.reference); });
    body.replaceChildren.apply(body, feed.rows.map(function (row) {
      return buildRow(row, arrived.indexOf(row) !== -1);
    }));
    body.dataset.signature = feed.signature;
    if (total) total.textContent = String(feed.total);
    if (empty) empty.hidden = feed.rows.length > 0;
    if (focused) {
      const again = body.querySelector('tr[data-reference="' + CSS.escape(focused) + '"] a');
      if (again) again.focus();
    }
    if (arrived.length && live) {
      live.textContent = arrived.length === 1
        ? live.dataset.oneNew.replace("{reference}", arrived[0].reference)
        : live.dataset.manyNew.replace("{count}", String(arrived.length));
    }
  }

  async function poll() {
    try {
      const response = await fetch(body.dataset.feed, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (response.status === 401) {
        if (live) live.textContent = live.dataset.signedOut;
        return;
      }
      if (response.ok) {
        const feed = await response.json();
        if (feed.signature !== body.dataset.signature) redraw(feed);
      }
    } catch (error) {
      // A missed poll is harmless: the next one catches up.
    }
    window.setTimeout(poll, POLL_MS);
  }

  window.setTimeout(poll, POLL_MS);
})();

// Ticket page: "/code" in the message box becomes that canned reply, in the patient's language,
// when staff press Space, Tab or Enter; its translation for staff shows below the box. Without
// a known code, the keys do what they always do (Tab still moves the focus on).
(function () {
  "use strict";
  const box = document.getElementById("message-text");
  const data = document.getElementById("replies-data");
  if (!box || !data) return;
  const replies = JSON.parse(data.textContent);
  const translation = document.getElementById("reply-translation");
  const translated = document.getElementById("reply-translation-text");
  const EXPAND_KEYS = new Set([" ", "Tab", "Enter"]);

  function expand() {
    const before = box.value.slice(0, box.selectionStart);
    const match = /(?:^|\s)\/([a-z0-9_]+)$/.exec(before);
    const reply = match && Object.prototype.hasOwnProperty.call(replies, match[1]) ? replies[match[1]] : null;
    if (!reply) return false;
    const start = box.selectionStart - match[1].length - 1;
    box.setRangeText(reply.text, start, box.selectionEnd, "end");
    translated.textContent = reply.translation || "";
    translation.hidden = !reply.translation;
    return true;
  }

  box.addEventListener("keydown", function (event) {
    if (!EXPAND_KEYS.has(event.key) || event.shiftKey || event.altKey || event.ctrlKey || event.metaKey) return;
    if (expand()) event.preventDefault();
  });
})();

// Keyboard shortcuts. In the inbox, j and k move the focus (the selection) to the next or the
// previous ticket and o opens it (Enter does too, as on any link). Elsewhere, the element whose
// aria-keyshortcuts names the key takes it: a button is pressed (a: "Assign to me", ?: the list
// of shortcuts), a field gets the focus (n: the note, r: the message, s: the status). The list is
// a dialog that Escape closes. No key is taken while staff type in a field, or with Ctrl, Alt
// or Meta held; the templates own every word.
(function () {
  "use strict";
  const list = document.getElementById("shortcuts");
  const opener = document.getElementById("shortcuts-open");
  if (!list || !opener || typeof list.showModal !== "function") return;
  const tickets = document.getElementById("tickets");
  let before = null;

  function typing(target) {
    return target instanceof Element
      && (target.isContentEditable || target.closest("input, textarea, select") !== null);
  }

  function selectedRow() {
    const focused = document.activeElement;
    return tickets && focused && tickets.contains(focused) ? focused.closest("tr") : null;
  }

  function move(step) {
    const rows = Array.from(tickets.rows);
    if (!rows.length) return;
    const row = selectedRow();
    const at = row ? rows.indexOf(row) + step : (step > 0 ? 0 : rows.length - 1);
    const link = rows[Math.max(0, Math.min(rows.length - 1, at))].querySelector("a");
    if (link) link.focus();
  }

  function openSelected() {
    const row = selectedRow();
    const link = row && row.querySelector("a");
    if (link) link.click();
  }

  function take(key) {
    const target = document.querySelector('[aria-keyshortcuts~="' + CSS.escape(key) + '"]');
    if (!target || target.hidden || target.disabled) return false;
    if (target.matches("button, a")) target.click();
    else target.focus();
    return true;
  }

  opener.hidden = false;
  opener.addEventListener("click", function () {
    before = document.activeElement;
    list.showModal();
  });
  list.addEventListener("close", function () {
    if (before && document.contains(before)) before.focus();
    before = null;
  });

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.isComposing || event.ctrlKey || event.altKey || event.metaKey) return;
    if (list.open) {
      if (event.key === "?") list.close();
      return;
    }
    if (typing(event.target)) return;
    let taken = true;
    if (tickets && event.key === "j") move(1);
    else if (tickets && event.key === "k") move(-1);
    else if (tickets && event.key === "o") openSelected();
    else taken = take(event.key);
    if (taken) event.preventDefault();
  });
})();
