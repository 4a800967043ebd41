// The web chat: sends the patient's text or a button's payload, shows the replies.
(function () {
  "use strict";
  const main = document.querySelector(".chat");
  const list = document.getElementById("messages");
  const form = document.getElementById("composer");
  const input = document.getElementById("message");
  const language = main.dataset.language;

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

  function newId() {
    const id = window.crypto.randomUUID ? window.crypto.randomUUID() : String(Date.now()) + Math.random().toString(16).slice(2);
    return id.replace(/[^A-Za-z0-9_-]/g, "");
  }

  // One message, sent again once if its answer is lost on the way: with the same id, the
  // server answers what it answered the first time instead of taking it twice.
  async function post(message, messageId, retry) {
    const response = await fetch("/api/messages", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        session_id: sessionId(), text: message, language: language, message_id: messageId, retry: retry,
      }),
    });
    if (!response.ok) throw new Error("HTTP " + response.status);
    return response.json();
  }

  const RETRY_AFTER_MS = 2000;

  async function send(message, shown) {
    show(shown, "patient");
    const messageId = newId();
    let body;
    try {
      body = await post(message, messageId, false);
    } catch (error) {
      await new Promise(function (resolve) { window.setTimeout(resolve, RETRY_AFTER_MS); });
      try {
        body = await post(message, messageId, true);
      } catch (again) {
        show(main.dataset.connectionError, "notice");
        return;
      }
    }
    for (const reply of body.replies) {
      showButtons(showHtml(reply.html, "bot"), reply.buttons);
    }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    send(text, text);
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

  window.setTimeout(collectStaffMessages, STAFF_POLL_MS);
})();
