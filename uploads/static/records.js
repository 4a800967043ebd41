// The upload page: the patient picks files or a folder, gives each pick a label, and sends.
// Every file goes with tus (resumable: a lost connection, or the page opened again, carries
// on where it stopped); once the last byte is in, the page asks the server what reception
// made of the file (GET <upload>/result) and shows it.
(function () {
  "use strict";

  var data = JSON.parse(document.getElementById("page-data").textContent);
  var texts = data.texts;
  var states = data.states;
  var endpoint = new URL(data.endpoint, window.location.href).href;
  var AT_ONCE = 3;
  var RESULT_POLL_MS = 1000;
  var REFUSALS = {
    file_too_large: "too_large",
    past_upload_length: "too_large",
    request_too_large: "request_full",
    unsupported_type: "unsupported_type",
    unsafe_archive: "unsafe_archive",
    damaged_file: "damaged_file",
    link_gone: "link_gone",
    no_open_request: "link_gone",
    unknown_link: "link_gone",
    link_expired: "link_gone",
    link_revoked: "link_gone"
  };

  var choose = document.getElementById("choose");
  var toSend = document.getElementById("to-send");
  var batchesBox = document.getElementById("batches");
  var sendButton = document.getElementById("send");
  var receivedList = document.getElementById("received");
  var queue = [];
  var running = 0;
  var pending = [];

  choose.hidden = false;

  Array.prototype.forEach.call(document.querySelectorAll("[data-picks]"), function (button) {
    var input = document.getElementById(button.getAttribute("data-picks"));
    button.addEventListener("click", function () { input.click(); });
    input.addEventListener("change", function () {
      if (input.files && input.files.length) {
        addBatch(Array.prototype.slice.call(input.files), input.id === "pick-folder");
      }
      input.value = "";
    });
  });

  sendButton.addEventListener("click", function () {
    pending.forEach(function (batch) {
      batch.select.disabled = true;
      batch.remove.hidden = true;
      batch.items.forEach(function (item) { queue.push({ item: item, label: batch.select.value }); });
    });
    pending = [];
    sendButton.disabled = true;
    next();
  });

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  // A CD of images often carries a viewer program: the centre has no use for it.
  var PROGRAM = /\.(exe|dll|msi|bat|cmd|com|sys|ocx|inf|ini|jar|app|dylib|so)$/i;

  function addBatch(chosen, fromFolder) {
    var files = fromFolder ? chosen.filter(function (file) { return !PROGRAM.test(file.name); }) : chosen;
    var skipped = chosen.length - files.length;
    if (!files.length) { return; }
    var batch = { items: [] };
    var box = element("fieldset", "batch");
    var legend = element("legend", "", files.length === 1 ? files[0].name : files.length + " " + texts.files_count);
    var id = "label-" + Math.random().toString(36).slice(2);
    var question = element("label", "question", texts.label_question);
    question.htmlFor = id;
    batch.select = element("select", "label-choice");
    batch.select.id = id;
    data.labels.forEach(function (label) {
      var option = element("option", "", label.name);
      option.value = label.value;
      batch.select.appendChild(option);
    });
    batch.select.value = fromFolder ? "imaging" : "";
    batch.remove = element("button", "button small", texts.remove);
    batch.remove.type = "button";
    batch.remove.addEventListener("click", function () {
      pending = pending.filter(function (other) { return other !== batch; });
      box.remove();
      refresh();
    });
    var list = element("ul", "files");
    files.forEach(function (file) { batch.items.push(fileRow(file, list)); });
    box.append(legend, question, batch.select, list);
    if (skipped) { box.appendChild(element("p", "hint", texts.skipped_programs)); }
    box.appendChild(batch.remove);
    batchesBox.appendChild(box);
    pending.push(batch);
    refresh();
  }

  function fileRow(file, list) {
    var row = element("li", "file");
    var name = element("span", "name", file.webkitRelativePath || file.name);
    var size = element("span", "size", megabytes(file.size));
    var bar = element("progress", "");
    bar.max = 100;
    bar.value = 0;
    var status = element("span", "status", states.waiting);
    status.setAttribute("role", "status");
    row.append(name, size, bar, status);
    list.appendChild(row);
    return { file: file, row: row, bar: bar, status: status };
  }

  function refresh() {
    toSend.hidden = batchesBox.children.length === 0;
    sendButton.disabled = pending.length === 0;
  }

  function megabytes(size) {
    var number = new Intl.NumberFormat(data.language, { maximumFractionDigits: 1 });
    return number.format(Math.max(size / 1e6, 0.1)) + " MB";
  }

  function show(item, state, extra) {
    item.status.textContent = states[state] || states.failed;
    item.row.setAttribute("data-state", state);
    if (extra !== undefined) { item.row.setAttribute("data-code", extra); }
  }

  function next() {
    while (running < AT_ONCE && queue.length) {
      var job = queue.shift();
      running += 1;
      send(job.item, job.label, function () { running -= 1; next(); });
    }
  }

  function send(item, label, done) {
    if (item.file.size > data.max_file_bytes) {
      show(item, "too_large", "file_too_large");
      done();
      return;
    }
    var metadata = label ? { label: label } : {};
    var upload = new tus.Upload(item.file, {
      endpoint: endpoint,
      metadata: metadata,
      retryDelays: [0, 1000, 3000, 5000, 10000, 20000, 30000],
      removeFingerprintOnSuccess: true,
      onProgress: function (sent, total) {
        item.bar.value = total ? Math.floor((sent / total) * 100) : 100;
        show(item, "sending");
      },
      onShouldRetry: function (error) {
        var status = error.originalResponse ? error.originalResponse.getStatus() : 0;
        var retry = !(status >= 400 && status < 500 && status !== 409 && status !== 423);
        if (retry) { show(item, "paused"); }
        return retry;
      },
      onError: function (error) {
        var response = error.originalResponse;
        var code = response ? (response.getBody() || "").trim() : "";
        var status = response ? response.getStatus() : 0;
        if (status === 404 || status === 410) { code = code || "link_gone"; }
        show(item, REFUSALS[code] || "failed", code);
        done();
      },
      onSuccess: function () {
        item.bar.value = 100;
        show(item, "checking");
        result(item, upload.url + "/result", done);
      }
    });
    upload.findPreviousUploads().then(function (previous) {
      if (previous.length) { upload.resumeFromPreviousUpload(previous[0]); }
      upload.start();
    });
  }

  function result(item, url, done) {
    fetch(url, { cache: "no-store", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : { state: "checking" }; })
      .catch(function () { return { state: "checking" }; })
      .then(function (body) {
        if (body.state === "received") {
          var infected = body.attachment && body.attachment.scan === "infected";
          show(item, infected ? "infected" : "received", infected ? "infected" : "");
          if (!infected) { addReceived(body.attachment || {}); }
          done();
        } else if (body.state === "refused") {
          show(item, REFUSALS[body.code] || "failed", body.code);
          done();
        } else {
          window.setTimeout(function () { result(item, url, done); }, RESULT_POLL_MS);
        }
      });
  }

  function addReceived(attachment) {
    var empty = receivedList.querySelector(".empty");
    if (empty) { empty.remove(); }
    var name = data.labels.filter(function (label) { return label.value === attachment.label; })[0];
    var row = element("li", "");
    row.append(
      element("span", "kind", name ? name.name : data.labels[data.labels.length - 1].name),
      element("span", "detail", megabytes(attachment.size || 0))
    );
    receivedList.appendChild(row);
  }
})();
