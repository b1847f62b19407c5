// The wallet's online chat: the customer's side of WS /v1/support/chat (docs/chat.md).
// The page (templates/wallet/chat/chat.html) renders the shell with its texts in data-t-*
// attributes; this script shows it, asks POST /chat/token for a one-minute token of this
// browser's session, opens the socket, sends {type: "auth", token, locale, chat_id?} first,
// and then shows what the server sends: the lines (the bot's with article links and a
// "did this help?"), the state (bot, queued with the place in line, active, closed).
// A dropped socket is reopened on the same chat with a fresh token; the server replays
// the lines after "ready", so the log is rebuilt from them.
(function () {
  "use strict";

  var root = document.getElementById("chat");
  if (!root) return;
  var log = document.getElementById("chat-log");
  var state = document.getElementById("chat-state");
  var form = document.getElementById("chat-form");
  var text = document.getElementById("chat-text");
  var send = form.querySelector("button[type=submit]");
  var human = document.getElementById("chat-human");
  var end = document.getElementById("chat-end");
  var actions = root.querySelector(".chat-actions");
  var ended = document.getElementById("chat-ended");
  var ticket = document.getElementById("chat-ticket");

  var socket = null;
  var chatId = null;
  var status = null;
  var seen = {};
  var attempts = 0;
  var finished = false;
  var MAX_ATTEMPTS = 5;

  function t(name) {
    return root.getAttribute("data-t-" + name) || "";
  }

  function say(message) {
    state.textContent = message;
  }

  function usable(on) {
    var open = on && !finished;
    text.disabled = !open;
    send.disabled = !open;
    end.disabled = !open;
    human.disabled = !open || status !== "bot";
  }

  function frame(body) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(body));
      return true;
    }
    return false;
  }

  function articleUrl(url) {
    // The bot links the API's article; the reader wants the help centre's page.
    return url.replace(/^\/v1\/help\/articles\//, "/help/articles/");
  }

  function sender(kind) {
    if (kind === "customer") return t("you");
    if (kind === "bot") return t("bot-name");
    if (kind === "agent") return t("agent");
    return "";
  }

  function feedback(item) {
    var box = document.createElement("p");
    box.className = "chat-helped";
    var ask = document.createElement("span");
    ask.textContent = t("helped");
    box.appendChild(ask);
    [["yes", true], ["no", false]].forEach(function (choice) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "button";
      button.textContent = t(choice[0]);
      button.addEventListener("click", function () {
        if (frame({ type: "feedback", helpful: choice[1] })) box.textContent = t("thanks");
      });
      box.appendChild(button);
    });
    item.appendChild(box);
  }

  function addLine(line) {
    if (seen[line.id]) return;
    seen[line.id] = true;
    var item = document.createElement("li");
    item.className = "chat-line chat-" + line.sender + (line.sender === "customer" ? " mine" : "");
    var who = sender(line.sender);
    if (who) {
      var name = document.createElement("span");
      name.className = "chat-who";
      name.textContent = who;
      item.appendChild(name);
    }
    var linked = line.articles && line.articles.length;
    var body = document.createElement("p");
    body.className = "chat-text";
    // The bot's text lists its articles for plain-text readers; here they are links below.
    body.textContent = linked ? line.text.split("\n")[0] : line.text;
    item.appendChild(body);
    if (linked) {
      var list = document.createElement("ul");
      list.className = "chat-articles";
      line.articles.forEach(function (article) {
        var entry = document.createElement("li");
        var link = document.createElement("a");
        link.href = articleUrl(article.url);
        link.textContent = article.title;
        entry.appendChild(link);
        list.appendChild(entry);
      });
      item.appendChild(list);
      if (status === "bot") {
        log.querySelectorAll(".chat-helped").forEach(function (old) { old.remove(); });
        feedback(item);
      }
    }
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
  }

  function showState(chat) {
    chatId = chat.id;
    status = chat.status;
    if (status === "bot") say(t("bot"));
    else if (status === "queued") {
      say(chat.queue_position ? t("position").replace("{n}", String(chat.queue_position)) : t("queued"));
    } else if (status === "active") say(t("active"));
    else if (status === "closed") say(t("closed"));
    if (status !== "bot") {
      log.querySelectorAll(".chat-helped").forEach(function (old) { old.remove(); });
    }
    if (chat.ticket_id) {
      var link = ticket.querySelector("a");
      link.href = "/tickets/" + encodeURIComponent(chat.ticket_id);
      ticket.hidden = false;
    }
    usable(status !== "closed");
  }

  function finish(chat) {
    finished = true;
    if (chat) showState(chat);
    say(t("closed"));
    usable(false);
    form.hidden = true;
    actions.hidden = true;
    ended.hidden = false;
  }

  function onFrame(message) {
    var data;
    try {
      data = JSON.parse(message.data);
    } catch (error) {
      return;
    }
    if (data.type === "ready") {
      attempts = 0;
      log.textContent = "";
      seen = {};
      showState(data.chat);
    } else if (data.type === "message") {
      addLine(data);
    } else if (data.type === "state") {
      showState(data.chat);
    } else if (data.type === "ended") {
      finish(data.chat);
    } else if (data.type === "error") {
      say(data.detail || t("failed"));
    }
  }

  function token() {
    return fetch(root.getAttribute("data-token-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": root.getAttribute("data-csrf") },
    }).then(function (response) {
      var kind = response.headers.get("content-type") || "";
      if (!response.ok || kind.indexOf("application/json") !== 0) throw new Error("signed-out");
      return response.json();
    }).then(function (body) {
      return body.token;
    });
  }

  function connect() {
    say(attempts ? t("reconnecting") : t("connecting"));
    token().then(function (value) {
      var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
      socket = new WebSocket(scheme + window.location.host + root.getAttribute("data-socket"));
      socket.addEventListener("open", function () {
        var auth = { type: "auth", token: value, locale: root.getAttribute("data-locale") };
        if (chatId && status !== "closed") auth.chat_id = chatId;
        socket.send(JSON.stringify(auth));
      });
      socket.addEventListener("message", onFrame);
      socket.addEventListener("close", onClose);
    }, function () {
      usable(false);
      say(t("signed-out"));
    });
  }

  function onClose(event) {
    usable(false);
    if (finished || event.code === 1000) {
      if (!finished) finish(null);
      return;
    }
    if (event.code === 4503) {
      say(t("off"));
      return;
    }
    if (event.code === 4404 || event.code === 4409) {
      chatId = null; // that chat is gone: the next connection opens a new one
    }
    attempts += 1;
    if (attempts > MAX_ATTEMPTS) {
      say(t("failed"));
      return;
    }
    say(t("reconnecting"));
    window.setTimeout(connect, Math.min(8000, 500 * Math.pow(2, attempts - 1)));
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var value = text.value.trim();
    if (!value) return;
    if (frame({ type: "message", text: value })) {
      text.value = "";
      text.focus();
    }
  });
  text.addEventListener("keydown", function (event) {
    // Enter sends, Shift+Enter starts a new line (as in every chat app).
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  human.addEventListener("click", function () {
    frame({ type: "handover" });
  });
  end.addEventListener("click", function () {
    frame({ type: "end" });
  });
  window.addEventListener("pagehide", function () {
    if (socket) socket.close(1000);
  });

  var fallback = document.getElementById("chat-needs-script");
  if (fallback) fallback.hidden = true;
  root.hidden = false;
  connect();
})();
