/*
 * Regelhulp chat widget: embed with one script tag, e.g.
 *   <script src="https://example.org/regelhulp/regelhulp-widget.js"
 *           data-server="https://chat.example.org" data-title="Regelhulp"
 *           data-lang="nl" data-helpdesk-url="https://www.vluchtelingenwerk.nl/contact"></script>
 *
 * Staff mode (for the helpdesk and the content team): open the host page with ?staff=1, or add
 * data-staff="true" to the tag; each rule answer then links to its entry on the kennisbank page
 * ("Regel: <rule id> · gecontroleerd <date>"), at data-kennisbank-url (default /kennisbank on the
 * widget's own origin).
 *
 * Language: the interface starts in data-lang (nl or en) and follows the conversation: each bot
 * message carries its language (`metadata.lang`), which becomes the `lang` attribute of that
 * message (and of the user's message it answers) and, when it changes, the language of the widget's
 * own texts. The widget sends the conversation's language with each message (metadata.lang), for
 * the server's texts about messages that have no language of their own.
 *
 * Talks to Rasa's socket.io channel (session persistence on; the session id is random and kept in
 * sessionStorage, so a reload continues the conversation). Each `bot_uttered` event carries `text`,
 * `quick_replies` and, under `metadata`, the answer's `lang`, `rule_id` and `checked` date.
 *
 * Messages are rendered with DOM APIs only (a small safe Markdown subset: **bold**,
 * [text](https://link), "- " lists, line breaks); message text is never inserted as HTML.
 *
 * On a phone: a new answer is scrolled so that its first line is at the top of the conversation;
 * the privacy notice is one line with "meer" after the first message; icons are inline SVG.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var cfg = {
    server: script.getAttribute("data-server") || window.location.origin,
    socketPath: script.getAttribute("data-socket-path") || "/socket.io/",
    title: script.getAttribute("data-title") || "Regelhulp",
    lang: /^(nl|en)$/.test(script.getAttribute("data-lang") || "") ? script.getAttribute("data-lang") : "nl",
    helpdeskUrl: script.getAttribute("data-helpdesk-url") || "https://www.vluchtelingenwerk.nl",
    base: script.src.replace(/[^/]*$/, ""),
    staff: /^(1|true|yes)$/i.test(script.getAttribute("data-staff") || "") ||
      new URLSearchParams(window.location.search).get("staff") === "1",
    kennisbankUrl: script.getAttribute("data-kennisbank-url") || new URL("/kennisbank", script.src).href,
  };

  var TEXTS = {};
  TEXTS.nl = {
    open: "Stel een vraag aan " + cfg.title,
    close: "Sluit de chat",
    restart: "Begin opnieuw",
    human: "Praat met een medewerker",
    input: "Typ je vraag",
    send: "Verstuur",
    privacy: "Je praat met een digitale assistent. Deel geen persoonlijke gegevens, zoals je BSN, " +
      "adres of telefoonnummer. Het gesprek wordt bewaard om de assistent te verbeteren.",
    typing: "Regelhulp typt…",
    error: "De chat is nu niet bereikbaar. Probeer het later opnieuw.",
    retry: "Opnieuw proberen",
    helpful: "Nuttig antwoord",
    notHelpful: "Niet nuttig antwoord",
    thanks: "Bedankt voor je reactie.",
    you: "Jij",
    bot: cfg.title,
    staffRule: "Regel: ",
    staffChecked: " · gecontroleerd ",
    months: ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
      "oktober", "november", "december"],
    conversation: "Gesprek",
    up: "Nuttig",
    down: "Niet nuttig",
    more: "meer",
    less: "minder",
  };
  TEXTS.en = {
    open: "Ask " + cfg.title + " a question",
    close: "Close the chat",
    restart: "Start again",
    human: "Talk to a staff member",
    input: "Type your question",
    send: "Send",
    privacy: "You are talking to a digital assistant. Do not share personal data, such as your BSN, " +
      "address or phone number. The conversation is stored to improve the assistant.",
    typing: "Regelhulp is typing…",
    error: "The chat cannot be reached right now. Please try again later.",
    retry: "Try again",
    helpful: "Helpful answer",
    notHelpful: "Answer not helpful",
    thanks: "Thank you for your feedback.",
    you: "You",
    bot: cfg.title,
    staffRule: "Rule: ",
    staffChecked: " · checked ",
    months: ["January", "February", "March", "April", "May", "June", "July", "August", "September",
      "October", "November", "December"],
    conversation: "Conversation",
    up: "Helpful",
    down: "Not helpful",
    more: "more",
    less: "less",
  };

  var STORE_SESSION = "regelhulp.session";
  var STORE_HISTORY = "regelhulp.history";
  var STORE_OPEN = "regelhulp.open";
  var STORE_LANG = "regelhulp.lang";

  var lang = TEXTS[sessionStorage.getItem(STORE_LANG)] ? sessionStorage.getItem(STORE_LANG) : cfg.lang;
  var TEXT = TEXTS[lang];

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key];
      else if (key === "onclick") node.addEventListener("click", attrs[key]);
      else node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) { node.appendChild(child); });
    return node;
  }

  // Icons are inline SVG (no emoji or icon font, which may be missing on the reader's system); they
  // are decorative: the button that holds one has a text or an aria-label. Paths after Feather (MIT).
  var ICONS = {
    up: "M14 9V5a3 3 0 0 0-3-3l-4 9v11h11.28a2 2 0 0 0 2-1.7l1.38-9a2 2 0 0 0-2-2.3zM7 22H4a2 2 0 0 1-2-2v-7a2 2 0 0 1 2-2h3",
    down: "M10 15v4a3 3 0 0 0 3 3l4-9V2H5.72a2 2 0 0 0-2 1.7l-1.38 9a2 2 0 0 0 2 2.3zm7-13h2.67A2.31 2.31 0 0 1 22 4v7a2.31 2.31 0 0 1-2.33 2H17",
    close: "M18 6 6 18M6 6l12 12",
  };

  function icon(name) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("class", "rh-icon");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("d", ICONS[name]);
    svg.appendChild(path);
    return svg;
  }

  function newSessionId() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  // ---------------------------------------------------------------- safe Markdown subset
  function appendInline(parent, text) {
    var pattern = /\*\*([^*]+)\*\*|\[([^\]]+)\]\(([^)\s]+)\)/g;
    var last = 0, match;
    while ((match = pattern.exec(text)) !== null) {
      if (match.index > last) parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      if (match[1] !== undefined) {
        parent.appendChild(el("strong", { text: match[1] }));
      } else if (/^https?:\/\//i.test(match[3])) {
        parent.appendChild(el("a", { href: match[3], target: "_blank", rel: "noopener noreferrer", text: match[2] }));
      } else {
        parent.appendChild(document.createTextNode(match[0]));  // not a web link: shown as text
      }
      last = pattern.lastIndex;
    }
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
  }

  function renderMarkdown(text) {
    var fragment = document.createDocumentFragment();
    String(text).split(/\n{2,}/).forEach(function (block) {
      var lines = block.split("\n");
      if (lines.every(function (l) { return /^\s*- /.test(l); })) {
        var list = el("ul");
        lines.forEach(function (l) { var item = el("li"); appendInline(item, l.replace(/^\s*- /, "")); list.appendChild(item); });
        fragment.appendChild(list);
        return;
      }
      var para = el("p");
      lines.forEach(function (line, i) {
        if (i > 0) para.appendChild(el("br"));
        appendInline(para, line);
      });
      fragment.appendChild(para);
    });
    return fragment;
  }

  // ---------------------------------------------------------------- state
  var sessionId = sessionStorage.getItem(STORE_SESSION);
  if (!sessionId) { sessionId = newSessionId(); sessionStorage.setItem(STORE_SESSION, sessionId); }
  var history = JSON.parse(sessionStorage.getItem(STORE_HISTORY) || "[]");
  var socket = null;
  var typingTimer = null;
  var pending = [];  // messages typed while the connection is still being made
  var ready = false;  // connected and confirmed in the session

  function saveHistory() { sessionStorage.setItem(STORE_HISTORY, JSON.stringify(history.slice(-200))); }

  // ---------------------------------------------------------------- DOM
  var root = el("div", { class: "rh-root", lang: lang });
  var launcher = el("button", { type: "button", class: "rh-launcher", "aria-expanded": "false", "aria-controls": "rh-panel", text: TEXT.open });
  var log = el("div", { class: "rh-log", role: "log", "aria-live": "polite", "aria-relevant": "additions", "aria-label": TEXT.conversation, tabindex: "0" });
  var typing = el("p", { class: "rh-typing", hidden: "", text: TEXT.typing });
  var errorBox = el("div", { class: "rh-error", role: "alert", hidden: "" });
  var input = el("input", { type: "text", class: "rh-input", id: "rh-input", maxlength: "1000", autocomplete: "off" });
  var inputLabel = el("label", { for: "rh-input", class: "rh-visually-hidden", text: TEXT.input });
  var sendButton = el("button", { type: "submit", class: "rh-send", text: TEXT.send });
  var form = el("form", { class: "rh-form" }, [inputLabel, input, sendButton]);
  input.setAttribute("placeholder", TEXT.input);
  var restartButton = el("button", { type: "button", class: "rh-restart", text: TEXT.restart, onclick: restart });
  var closeButton = el("button", { type: "button", class: "rh-close", "aria-label": TEXT.close, onclick: closePanel }, [icon("close")]);
  // The privacy notice is shown in full until the first message, then as one line with "meer".
  var privacyText = el("span", { class: "rh-privacy-text", id: "rh-privacy-text", text: TEXT.privacy });
  var privacyToggle = el("button", { type: "button", class: "rh-privacy-toggle", "aria-controls": "rh-privacy-text",
    "aria-expanded": "true", hidden: "", text: TEXT.less, onclick: function () { collapsePrivacy(!privacy.classList.contains("rh-collapsed")); } });
  var privacy = el("p", { class: "rh-privacy" }, [privacyText, privacyToggle]);
  var privacyCollapsedOnce = false;  // collapsed by the first message; after that only by the reader
  var humanButton = el("button", { type: "button", class: "rh-human", text: TEXT.human, onclick: function () { send("/request_human", TEXT.human); } });
  var panel = el("section", { id: "rh-panel", class: "rh-panel", role: "dialog", "aria-label": cfg.title, hidden: "" }, [
    el("header", { class: "rh-header" }, [
      el("h2", { class: "rh-title", text: cfg.title }),
      restartButton,
      closeButton,
    ]),
    privacy,
    log,
    typing,
    errorBox,
    el("div", { class: "rh-footer" }, [
      humanButton,
      el("a", { href: cfg.helpdeskUrl, target: "_blank", rel: "noopener noreferrer", class: "rh-helpdesk", text: "Helpdesk" }),
    ]),
    form,
  ]);
  root.appendChild(launcher);
  root.appendChild(panel);

  var styles = el("link", { rel: "stylesheet", href: cfg.base + "regelhulp-widget.css" });
  document.head.appendChild(styles);

  // The widget's own texts follow the conversation's language.
  function setLanguage(next) {
    if (!TEXTS[next] || next === lang) return;
    lang = next;
    TEXT = TEXTS[lang];
    sessionStorage.setItem(STORE_LANG, lang);
    root.setAttribute("lang", lang);
    launcher.textContent = TEXT.open;
    log.setAttribute("aria-label", TEXT.conversation);
    typing.textContent = TEXT.typing;
    inputLabel.textContent = TEXT.input;
    input.setAttribute("placeholder", TEXT.input);
    sendButton.textContent = TEXT.send;
    restartButton.textContent = TEXT.restart;
    closeButton.setAttribute("aria-label", TEXT.close);
    privacyText.textContent = TEXT.privacy;
    privacyToggle.textContent = privacy.classList.contains("rh-collapsed") ? TEXT.more : TEXT.less;
    humanButton.textContent = TEXT.human;
    if (!errorBox.hasAttribute("hidden")) showError(true);
  }

  // ---------------------------------------------------------------- rendering
  var lastUserItem = null;  // the user's message that the next bot message answers
  var answerStart = null;  // the first bot message after the user's last message

  function collapsePrivacy(on) {
    privacy.classList.toggle("rh-collapsed", on);
    privacyToggle.removeAttribute("hidden");
    privacyToggle.setAttribute("aria-expanded", on ? "false" : "true");
    privacyToggle.textContent = on ? TEXT.more : TEXT.less;
  }

  function resetPrivacy() {
    privacy.classList.remove("rh-collapsed");
    privacyToggle.setAttribute("hidden", "");
    privacyCollapsedOnce = false;
  }

  // A new answer is scrolled so that its first line is at the top of the conversation, so a long
  // answer is read from its start (screen readers still hear it from the live region, and the
  // focus stays where it is); the user's own message scrolls the conversation to the bottom.
  function scrollToAnswer() {
    if (panel.hasAttribute("hidden")) return;
    if (!answerStart) { log.scrollTop = log.scrollHeight; return; }
    var padding = parseFloat(window.getComputedStyle(log).paddingTop) || 0;
    log.scrollTop += answerStart.getBoundingClientRect().top - log.getBoundingClientRect().top - padding;
  }

  function addMessage(message, save) {
    var who = message.from === "user" ? "user" : "bot";
    var item = el("div", { class: "rh-msg rh-" + who, lang: message.lang || lang });
    if (who === "user") lastUserItem = { node: item, message: message };
    if (who === "bot" && message.lang && lastUserItem) {
      // the answer is in the language of the question (or of the conversation, for "ok")
      lastUserItem.node.setAttribute("lang", message.lang);
      lastUserItem.message.lang = message.lang;
      lastUserItem = null;
    }
    item.appendChild(el("span", { class: "rh-visually-hidden", text: (who === "user" ? TEXT.you : TEXT.bot) + ": " }));
    if (message.text) item.appendChild(renderMarkdown(message.text));
    if (message.buttons && message.buttons.length) {
      var group = el("div", { class: "rh-buttons", role: "group" });
      message.buttons.forEach(function (b) {
        group.appendChild(el("button", { type: "button", class: "rh-quick", text: b.title, onclick: function () { send(b.payload, b.title); } }));
      });
      item.appendChild(group);
    }
    // feedback once per answer: a short answer comes with its source in a second message (part "source")
    if (who === "bot" && message.rule_id && message.part !== "answer") item.appendChild(feedbackControls(message));
    if (who === "bot" && message.rule_id && cfg.staff) item.appendChild(staffLink(message));
    log.appendChild(item);
    if (who === "user") answerStart = null;
    else if (!answerStart) answerStart = item;
    scrollToAnswer();
    if (!privacyCollapsedOnce) { privacyCollapsedOnce = true; collapsePrivacy(true); }
    if (save !== false) { history.push(message); saveHistory(); }
  }

  function feedbackControls(message) {
    var box = el("div", { class: "rh-feedback" });
    if (message.feedback) { box.appendChild(el("span", { text: TEXT.thanks })); return box; }
    [["up", TEXT.up, TEXT.helpful], ["down", TEXT.down, TEXT.notHelpful]].forEach(function (f) {
      box.appendChild(el("button", {
        type: "button", class: "rh-fb-" + f[0], "aria-label": f[2],
        onclick: function () {
          var payload = "/feedback" + JSON.stringify({ feedback_value: f[0], feedback_rule: message.rule_id });
          emit(payload);
          message.feedback = f[0];
          saveHistory();
          box.textContent = "";
          box.appendChild(el("span", { text: TEXT.thanks }));
        },
      }, [icon(f[0]), el("span", { text: f[1] })]));
    });
    return box;
  }

  function dateText(iso) {
    var parts = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(iso || ""));
    return parts ? Number(parts[3]) + " " + TEXT.months[Number(parts[2]) - 1] + " " + parts[1] : "";
  }

  // Staff mode: which kennisbank entry an answer came from, and when that entry was checked.
  function staffLink(message) {
    var label = TEXT.staffRule + message.rule_id;
    if (dateText(message.checked)) label += TEXT.staffChecked + dateText(message.checked);
    return el("p", { class: "rh-staff" }, [
      el("a", { href: cfg.kennisbankUrl + "#" + encodeURIComponent(message.rule_id), target: "_blank",
        rel: "noopener noreferrer", text: label }),
    ]);
  }

  function showTyping(on) {
    if (on) {
      typing.removeAttribute("hidden");
      clearTimeout(typingTimer);
      typingTimer = setTimeout(function () { typing.setAttribute("hidden", ""); }, 20000);
    } else {
      typing.setAttribute("hidden", "");
    }
  }

  function showError(on) {
    errorBox.textContent = "";
    if (!on) { errorBox.setAttribute("hidden", ""); return; }
    errorBox.appendChild(el("p", { text: TEXT.error }));
    errorBox.appendChild(el("button", { type: "button", class: "rh-retry", text: TEXT.retry, onclick: connect }));
    errorBox.removeAttribute("hidden");
    showTyping(false);
  }

  // ---------------------------------------------------------------- socket.io
  function emit(message) {
    if (socket && socket.connected && ready) {
      socket.emit("user_uttered", { message: message, session_id: sessionId, metadata: { lang: lang } });
    } else if (errorBox.hasAttribute("hidden")) {
      pending.push(message);  // sent as soon as the connection is there
      if (!socket) connect();
    } else {
      return false;
    }
    return true;
  }

  function send(message, shown) {
    message = String(message || "").trim();
    if (!message) return;
    if (emit(message)) {
      addMessage({ from: "user", text: shown || message });
      showTyping(true);
    }
  }

  function connect() {
    if (typeof window.io !== "function") { loadClient(connect); return; }
    if (socket) { socket.removeAllListeners(); socket.disconnect(); }
    ready = false;
    socket = window.io(cfg.server, { path: cfg.socketPath, transports: ["websocket"], reconnectionAttempts: 3, timeout: 8000 });
    socket.on("connect", function () {
      showError(false);
      socket.emit("session_request", { session_id: sessionId });
    });
    socket.on("session_confirm", function () {  // the server has joined us to the session's room
      ready = true;
      pending.splice(0).forEach(function (message) {
        socket.emit("user_uttered", { message: message, session_id: sessionId, metadata: { lang: lang } });
      });
    });
    socket.on("connect_error", function () { pending = []; showError(true); });
    socket.on("disconnect", function (reason) { ready = false; if (reason !== "io client disconnect") showError(true); });
    // Rasa's socket.io protocol: text, quick_replies, and everything else under metadata
    socket.on("bot_uttered", function (data) {
      data = data || {};
      var meta = data.metadata || {};
      showTyping(false);
      var said = TEXTS[meta.lang] ? meta.lang : undefined;
      if (said) setLanguage(said);
      addMessage({
        from: "bot",
        lang: said,
        text: data.text,
        buttons: data.quick_replies || data.buttons,
        rule_id: meta.rule_id,
        part: meta.part,
        checked: meta.checked,
      });
    });
  }

  function loadClient(then) {
    var tag = el("script", { src: cfg.base + "vendor/socket.io.min.js" });
    tag.onload = then;
    tag.onerror = function () { showError(true); };
    document.head.appendChild(tag);
  }

  // ---------------------------------------------------------------- panel
  function openPanel() {
    panel.removeAttribute("hidden");
    launcher.setAttribute("aria-expanded", "true");
    sessionStorage.setItem(STORE_OPEN, "1");
    if (!socket) connect();
    input.focus();
    scrollToAnswer();
  }

  function closePanel() {
    panel.setAttribute("hidden", "");
    launcher.setAttribute("aria-expanded", "false");
    sessionStorage.removeItem(STORE_OPEN);
    launcher.focus();
  }

  function restart() {
    sessionStorage.removeItem(STORE_LANG);
    setLanguage(cfg.lang);
    sessionId = newSessionId();
    sessionStorage.setItem(STORE_SESSION, sessionId);
    history = [];
    saveHistory();
    log.textContent = "";
    lastUserItem = null;
    answerStart = null;
    resetPrivacy();
    if (socket && socket.connected) { ready = false; socket.emit("session_request", { session_id: sessionId }); }
    else connect();
    input.focus();
  }

  launcher.addEventListener("click", function () { if (panel.hasAttribute("hidden")) openPanel(); else closePanel(); });
  panel.addEventListener("keydown", function (event) { if (event.key === "Escape") closePanel(); });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    send(input.value);
    input.value = "";
  });

  function start() {
    document.body.appendChild(root);
    history.forEach(function (m) { addMessage(m, false); });
    if (sessionStorage.getItem(STORE_OPEN)) openPanel();
  }
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
})();
