// The console's live chat desk: the agent's side of WS /v1/staff/support/chat (docs/chat.md).
// The page (templates/console/chats/desk.html) renders the shell with its texts in data-t-*
// attributes; this script shows it, asks POST /console/chats/token for a token of this
// console session, opens the socket, sends {type: "auth", token} first and then shows what
// the server sends: who is connected ("presence"), the queue ("waiting", with places),
// chats given to this agent ("assigned", with their history: the part with the assistant
// is shown above the agent's part), new lines, chats handed elsewhere ("released") and
// chats that ended. The agent's actions are frames: take, message, handover, end, presence.
// A dropped socket is reopened with a fresh token; the server sends the whole state again.
(function () {
  "use strict";

  var root = document.getElementById("desk");
  if (!root) return;
  var me = root.getAttribute("data-me");

  function $(id) { return document.getElementById(id); }
  function t(name) { return root.getAttribute("data-t-" + name) || ""; }

  var stateLine = $("desk-state");
  var notice = $("desk-notice");
  var onlineButton = $("desk-online");
  var awayButton = $("desk-away");
  var statusLine = $("desk-status");
  var agentsList = $("desk-agents");
  var queueList = $("desk-queue");
  var queueEmpty = $("desk-queue-empty");
  var queueCount = $("desk-queue-count");
  var mineList = $("desk-mine");
  var mineEmpty = $("desk-mine-empty");
  var none = $("desk-none");
  var view = $("desk-chat");
  var heading = $("desk-chat-heading");
  var customerLink = $("desk-customer-link");
  var transcriptLink = $("desk-transcript-link");
  var botBox = $("desk-bot");
  var botLog = $("desk-bot-log");
  var log = $("desk-log");
  var form = $("desk-form");
  var text = $("desk-text");
  var actions = $("desk-actions");
  var handover = $("desk-handover");
  var handoverTo = $("desk-handover-to");
  var endButton = $("desk-end");
  var ended = $("desk-ended");
  var endedText = $("desk-ended-text");
  var dismiss = $("desk-dismiss");
  var baseTitle = document.title;

  var socket = null;
  var attempts = 0;
  var stopped = false;
  var MAX_ATTEMPTS = 6;
  var chats = {};     // id -> {chat, lines, seen, unread, over}
  var order = [];     // the agent's chats, oldest first
  var current = null;
  var taking = null;  // the chat this agent asked to take (shown when it arrives)
  var agents = [];
  var away = false;

  function say(message) {
    stateLine.textContent = message;
    stateLine.hidden = !message;
  }

  function warn(message) {
    notice.textContent = message;
    notice.hidden = !message;
  }

  function frame(body) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(body));
      return true;
    }
    return false;
  }

  function shortId(id) {
    return t("customer-short").replace("{id}", String(id).slice(-6));
  }

  function clock(iso) {
    var moment = new Date(iso);
    if (isNaN(moment.getTime())) return "";
    // China time, as the console's pages show every time.
    return moment.toLocaleTimeString([], {
      hour: "2-digit", minute: "2-digit", hour12: false, timeZone: "Asia/Shanghai",
    });
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function item(tag, className, content) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (content !== undefined) node.textContent = content;
    return node;
  }

  // Presence: my status, who is connected, whom a chat can be handed to.

  function showPresence(data) {
    away = data.status === "away";
    agents = data.agents || [];
    onlineButton.setAttribute("aria-pressed", away ? "false" : "true");
    awayButton.setAttribute("aria-pressed", away ? "true" : "false");
    onlineButton.disabled = false;
    awayButton.disabled = false;
    statusLine.textContent = away ? t("you-away") : t("you-online");
    clear(agentsList);
    agents.forEach(function (agent) {
      var entry = item("li");
      entry.appendChild(item("span", "", agent.name + (agent.staff_id === me ? " " + t("you-tag") : "")));
      var badge = item("span", "badge " + (agent.status === "away" ? "badge-warn" : "badge-ok"),
        agent.status === "away" ? t("away") : t("online"));
      entry.appendChild(badge);
      agentsList.appendChild(entry);
    });
    var chosen = handoverTo.value;
    while (handoverTo.options.length > 1) handoverTo.remove(1);
    agents.forEach(function (agent) {
      if (agent.staff_id === me || agent.status !== "online") return;
      var option = item("option", "", agent.name);
      option.value = agent.staff_id;
      handoverTo.appendChild(option);
    });
    handoverTo.value = chosen;
    if (handoverTo.value !== chosen) handoverTo.value = "";
  }

  // The queue.

  function showQueue(data) {
    clear(queueList);
    var waiting = data.chats || [];
    waiting.forEach(function (chat) {
      var entry = item("li");
      entry.setAttribute("data-chat-id", chat.id);
      entry.appendChild(item("span", "desk-place", t("place").replace("{n}", String(chat.queue_position || ""))));
      var preview = item("span", "desk-preview", chat.preview || t("no-preview"));
      if (chat.preview) preview.title = chat.preview;
      entry.appendChild(preview);
      var take = item("button", "button button-small button-primary", t("take"));
      take.type = "button";
      take.setAttribute("aria-label", t("take-label").replace("{id}", String(chat.user_id).slice(-6)));
      take.disabled = taking === chat.id;
      take.addEventListener("click", function () {
        warn("");
        if (frame({ type: "take", chat_id: chat.id })) {
          taking = chat.id;
          take.disabled = true;
        }
      });
      entry.appendChild(take);
      entry.appendChild(item("span", "desk-since", shortId(chat.user_id) + " · " + clock(chat.created_at)));
      queueList.appendChild(entry);
    });
    queueCount.textContent = String(waiting.length);
    queueEmpty.textContent = data.away ? t("queue-away") : queueEmpty.getAttribute("data-empty");
    queueEmpty.hidden = waiting.length > 0;
    document.title = (waiting.length ? "(" + waiting.length + ") " : "") + baseTitle;
  }

  // The agent's chats.

  function showTabs() {
    clear(mineList);
    order.forEach(function (id) {
      var held = chats[id];
      var entry = item("li");
      var tab = item("button", "desk-tab");
      tab.type = "button";
      tab.setAttribute("data-chat-id", id);
      if (id === current) tab.setAttribute("aria-current", "true");
      tab.appendChild(item("span", "", shortId(held.chat.user_id)));
      if (held.over) {
        tab.appendChild(item("span", "badge", t("ended-tag")));
      } else if (held.unread) {
        var badge = item("span", "badge badge-info", String(held.unread));
        badge.setAttribute("aria-label", held.unread + " " + t("unread"));
        tab.appendChild(badge);
      }
      tab.addEventListener("click", function () { select(id); });
      entry.appendChild(tab);
      mineList.appendChild(entry);
    });
    mineEmpty.hidden = order.length > 0;
  }

  function who(line) {
    if (line.sender === "customer") return t("customer");
    if (line.sender === "bot") return t("assistant");
    if (line.sender === "agent") return line.sender_id === me ? t("me") : t("agent");
    return "";
  }

  function lineItem(line) {
    var entry = item("li", "desk-line desk-" + line.sender + (line.sender === "agent" && line.sender_id === me ? " mine" : ""));
    var head = item("span", "desk-who");
    var name = who(line);
    if (name) head.appendChild(item("span", "", name));
    var time = item("time", "", clock(line.created_at));
    time.setAttribute("datetime", line.created_at);
    head.appendChild(time);
    entry.appendChild(head);
    var articles = line.articles && line.articles.length;
    // The assistant's text lists its articles for plain-text readers; here as a list.
    entry.appendChild(item("p", "desk-text", articles ? line.text.split("\n")[0] : line.text));
    if (articles) {
      var list = item("ul", "desk-articles");
      line.articles.forEach(function (article) { list.appendChild(item("li", "", article.title)); });
      entry.appendChild(list);
    }
    return entry;
  }

  function botPart(held) {
    // The lines up to the assistant's last one: the customer's conversation before an agent.
    var last = -1;
    held.lines.forEach(function (line, index) { if (line.sender === "bot") last = index; });
    return last + 1;
  }

  function showChat() {
    var held = current ? chats[current] : null;
    none.hidden = !!held;
    view.hidden = !held;
    if (!held) return;
    warn("");
    heading.textContent = t("customer") + " " + held.chat.user_id;
    customerLink.href = root.getAttribute("data-customer-url") + encodeURIComponent(held.chat.user_id);
    transcriptLink.href = root.getAttribute("data-transcript-url") + encodeURIComponent(held.chat.id);
    clear(botLog);
    clear(log);
    var split = botPart(held);
    held.lines.forEach(function (line, index) {
      (index < split ? botLog : log).appendChild(lineItem(line));
    });
    botBox.hidden = split === 0;
    held.unread = 0;
    form.hidden = held.over;
    actions.hidden = held.over;
    ended.hidden = !held.over;
    if (held.over) {
      endedText.textContent = held.chat.closed_by === "customer" ? t("ended-by-customer") : t("ended");
    }
    log.scrollTop = log.scrollHeight;
    botLog.scrollTop = botLog.scrollHeight;
  }

  function select(id) {
    current = id;
    showTabs();
    showChat();
    if (id && chats[id] && !chats[id].over) text.focus();
  }

  function addLine(line) {
    var held = chats[line.chat_id];
    if (!held || held.seen[line.id]) return;
    held.seen[line.id] = true;
    held.lines.push(line);
    if (line.chat_id === current) {
      log.appendChild(lineItem(line));
      log.scrollTop = log.scrollHeight;
    } else if (line.sender === "customer") {
      held.unread += 1;
      showTabs();
    }
  }

  function assigned(data) {
    var id = data.chat.id;
    var held = { chat: data.chat, lines: [], seen: {}, unread: 0, over: false };
    (data.messages || []).forEach(function (line) {
      if (!held.seen[line.id]) {
        held.seen[line.id] = true;
        held.lines.push(line);
      }
    });
    var fresh = !chats[id];
    chats[id] = held;
    if (fresh) order.push(id);
    if (taking === id || !current) {
      taking = null;
      select(id);
    } else {
      if (fresh) held.unread = 1;
      showTabs();
      if (id === current) showChat();
    }
  }

  function over(data) {
    var held = chats[data.chat.id];
    if (!held) return;
    held.chat = data.chat;
    held.over = true;
    showTabs();
    if (data.chat.id === current) showChat();
  }

  function released(data) {
    var id = data.chat.id;
    if (!chats[id]) return;
    delete chats[id];
    order = order.filter(function (other) { return other !== id; });
    if (current === id) {
      current = null;
      select(order.length ? order[0] : null);
    } else {
      showTabs();
    }
    var status = data.chat.status;
    say(status === "active" ? t("handed-agent") : status === "queued" ? t("handed-queue") : t("ended"));
  }

  function refused(data) {
    if (data.code === "chat_not_waiting") {
      taking = null;
      warn(t("taken-by-other"));
    } else if (data.code === "agent_not_available") {
      warn(t("agent-unavailable"));
    } else if (data.code === "chat_closed") {
      warn(t("chat-closed"));
    } else {
      warn(data.detail || t("failed"));
    }
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
      say(t("connected"));
    } else if (data.type === "presence") {
      showPresence(data);
    } else if (data.type === "waiting") {
      showQueue(data);
    } else if (data.type === "assigned") {
      assigned(data);
    } else if (data.type === "message") {
      addLine(data);
    } else if (data.type === "ended") {
      over(data);
    } else if (data.type === "released") {
      released(data);
    } else if (data.type === "error") {
      refused(data);
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
        socket.send(JSON.stringify({ type: "auth", token: value }));
      });
      socket.addEventListener("message", onFrame);
      socket.addEventListener("close", onClose);
    }, function () {
      stopped = true;
      say(t("signed-out"));
    });
  }

  function onClose(event) {
    onlineButton.disabled = true;
    awayButton.disabled = true;
    if (stopped) return;
    if (event.code === 4401) {
      say(t("signed-out"));
      return;
    }
    if (event.code === 4403) {
      say(t("forbidden"));
      return;
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
    if (!value || !current) return;
    if (frame({ type: "message", chat_id: current, text: value })) {
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
  handover.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!current) return;
    warn("");
    var body = { type: "handover", chat_id: current };
    if (handoverTo.value) body.to_staff_id = handoverTo.value;
    frame(body);
  });
  endButton.addEventListener("click", function () {
    if (!current || !window.confirm(t("end-confirm"))) return;
    frame({ type: "end", chat_id: current });
  });
  dismiss.addEventListener("click", function () {
    if (!current) return;
    var id = current;
    delete chats[id];
    order = order.filter(function (other) { return other !== id; });
    current = null;
    select(order.length ? order[0] : null);
  });
  onlineButton.addEventListener("click", function () {
    if (away) frame({ type: "presence", status: "online" });
  });
  awayButton.addEventListener("click", function () {
    if (!away) frame({ type: "presence", status: "away" });
  });
  window.addEventListener("pagehide", function () {
    stopped = true;
    if (socket) socket.close(1000);
  });

  queueEmpty.setAttribute("data-empty", queueEmpty.textContent);
  $("desk-needs-script").hidden = true;
  root.hidden = false;
  showTabs();
  connect();
})();
