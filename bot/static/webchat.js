// The web chat: opens with the welcome, sends the patient's text, a button's payload or a file,
// and shows the replies.
(function () {
  "use strict";
  const main = document.querySelector(".chat");
  const list = document.getElementById("messages");
  const form = document.getElementById("composer");
  const input = document.getElementById("message");
  const picker = document.getElementById("file");
  const language = main.dataset.language;
  const fileLimit = Number(main.dataset.fileLimit);

  function sessionId() {
    let id = window.localStorage.getItem("webchat-session");
    if (!id) {
      id = newId();
      window.localStorage.setItem("webchat-session", id);
    }
    return id;
  }

  function show(text, sender) {
    const item = document.createElement("li");
    item.className = sender;
    item.textContent = text;
    list.appendChild(item);
    item.scrollIntoView({ block: "end" });
    return item;
  }

  // The server renders the assistant's messages from its own content and escapes everything else.
  function showHtml(html, sender) {
    const item = document.createElement("li");
    item.className = sender;
    const body = document.createElement("div");
    body.className = "text";
    body.innerHTML = html;
    item.appendChild(body);
    list.appendChild(item);
    item.scrollIntoView({ block: "end" });
    return item;
  }

  function showButtons(item, buttons) {
    if (!buttons.length) return;
    const row = document.createElement("div");
    row.className = "buttons";
    for (const choice of buttons) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = choice.title;
      button.addEventListener("click", function () {
        row.remove();  // the focus would fall to the top of the page: keep it in the composer
        input.focus();
        send(choice.payload, choice.title);
      });
      row.appendChild(button);
    }
    item.appendChild(row);
  }

  function showReplies(replies) {
    for (const reply of replies) {
      showButtons(showHtml(reply.html, "bot"), reply.buttons);
    }
  }

  function newId() {
    const id = window.crypto.randomUUID ? window.crypto.randomUUID() : String(Date.now()) + Math.random().toString(16).slice(2);
    return id.replace(/[^A-Za-z0-9_-]/g, "");
  }

  function pause(milliseconds) {
    return new Promise(function (resolve) { window.setTimeout(resolve, milliseconds); });
  }

  async function postJson(path, body) {
    const response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error("HTTP " + response.status);
    return response.json();
  }

  const RETRY_AFTER_MS = 2000;

  // Sent again once if its answer is lost on the way: the server answers what it answered the
  // first time instead of taking it twice.
  async function postTwice(path, body, retried) {
    try {
      return await postJson(path, body);
    } catch (error) {
      await pause(RETRY_AFTER_MS);
      return postJson(path, retried);
    }
  }

  async function send(message, shown) {
    show(shown, "patient");
    const first = { session_id: sessionId(), text: message, language: language, message_id: newId(), retry: false };
    let body;
    try {
      body = await postTwice("/api/messages", first, Object.assign({}, first, { retry: true }));
    } catch (error) {
      show(main.dataset.connectionError, "notice");
      return;
    }
    showReplies(body.replies);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    send(text, text);
  });

  // The welcome and its buttons, as soon as the page opens. The server greets a session once:
  // after a reload it shows the same welcome again instead of greeting twice.
  async function welcome() {
    const body = { session_id: sessionId(), language: language };
    let answer;
    try {
      answer = await postTwice("/api/welcome", body, body);
    } catch (error) {
      show(main.dataset.welcomeFailed, "notice");
      return;
    }
    showReplies(answer.replies);
  }

  // Files: each one's bytes are posted as they are, with their progress shown. The server
  // answers with replies like a message's; a file over the chat's limit gets the upload link.
  function filesQuery() {
    return "?session_id=" + encodeURIComponent(sessionId()) + "&language=" + encodeURIComponent(language);
  }

  function upload(file, progress) {
    return new Promise(function (resolve, reject) {
      const request = new XMLHttpRequest();
      request.open("POST", "/api/files" + filesQuery());
      request.setRequestHeader("Content-Type", "application/octet-stream");
      request.responseType = "json";
      request.upload.addEventListener("progress", function (event) {
        if (event.lengthComputable) progress.value = event.loaded / event.total;
      });
      // Every byte is out: reception checks and scans the file before it answers.
      request.upload.addEventListener("load", function () { progress.removeAttribute("value"); });
      request.addEventListener("load", function () { resolve(request.response); });
      for (const failure of ["error", "abort", "timeout"]) {
        request.addEventListener(failure, function () { reject(new Error(failure)); });
      }
      request.send(file);
    });
  }

  async function uploadLink() {
    const response = await fetch("/api/upload-link" + filesQuery(), { method: "POST" });
    return response.json();
  }

  async function sendFile(file) {
    const item = show(file.name, "patient file");
    const status = document.createElement("span");
    status.className = "status";
    status.textContent = main.dataset.fileSending;
    const progress = document.createElement("progress");
    progress.max = 1;
    progress.value = 0;
    progress.setAttribute("aria-label", main.dataset.fileSending);
    item.append(status, progress);
    item.scrollIntoView({ block: "end" });
    let body = null;
    try {
      body = file.size > fileLimit ? await uploadLink() : await upload(file, progress);
    } catch (error) {
      body = null;
    }
    status.remove();
    progress.remove();
    if (body && Array.isArray(body.replies)) {
      showReplies(body.replies);
    } else {
      show(main.dataset.fileFailed, "notice");
    }
  }

  picker.addEventListener("change", async function () {
    const files = Array.from(picker.files || []);
    picker.value = "";  // the same file can be chosen again
    for (const file of files) {
      await sendFile(file);
    }
  });

  // Messages from reception: collected by a short poll and shown as plain text, never as HTML.
  const STAFF_POLL_MS = 3000;

  async function collectStaffMessages() {
    try {
      const response = await fetch("/api/messages?session_id=" + encodeURIComponent(sessionId()));
      if (response.ok) {
        const body = await response.json();
        for (const message of body.messages) {
          const item = show(message.text, message.sender === "assistant" ? "bot" : "staff");
          showButtons(item, message.buttons || []);
        }
      }
    } catch (error) {
      // A missed poll is harmless: the next one collects what is waiting.
    }
    window.setTimeout(collectStaffMessages, STAFF_POLL_MS);
  }

  welcome();
  window.setTimeout(collectStaffMessages, STAFF_POLL_MS);
})();
