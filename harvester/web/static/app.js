// The review page's keys and buttons. The server renders everything; this file only sends
// decisions to the JSON API and then swaps in the header, queue, card and dashboard of the
// page it should show next, rendered by the server (no reload: the script, the style sheet
// and the scroll position stay). It never builds HTML from data: messages go in with
// textContent, and swapped parts come whole from the server's renderer.
"use strict";

(() => {
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? "";
  let card = null;
  let message = null;
  let categoryPanel = null;
  let textPanel = null;
  let textInput = null;
  let textLabel = null;
  let busy = false;
  let textField = null;
  let views = 0;

  // The elements of the current view, and the listeners of its buttons.
  function bind() {
    card = document.getElementById("paper");
    message = document.getElementById("message");
    categoryPanel = document.getElementById("category-panel");
    textPanel = document.getElementById("text-panel");
    textInput = document.getElementById("text-input");
    textLabel = document.getElementById("text-label");
    textField = null;
    for (const button of document.querySelectorAll("button[data-key]")) {
      button.addEventListener("click", () => {
        const action = actions[button.dataset.key];
        if (action && (card?.dataset.paperId || button.dataset.key === "u")) action();
      });
    }
    for (const button of document.querySelectorAll("button[data-category]")) {
      button.addEventListener("click", () => chooseCategory(button.dataset.category));
    }
    textPanel?.addEventListener("submit", submitText);
    document.getElementById("text-cancel")?.addEventListener("click", closePanels);
    views += 1;
    document.documentElement.dataset.view = String(views);
  }

  // Show the page at ``url`` in place: its parts replace ours, and the address follows.
  async function show(url, push = true) {
    const response = await fetch(url, { credentials: "same-origin" });
    if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
    const next = new DOMParser().parseFromString(await response.text(), "text/html");
    const header = next.querySelector("header.bar");
    const layout = next.querySelector("div.layout");
    if (!header || !layout) {
      window.location.assign(url);
      return;
    }
    document.querySelector("header.bar")?.replaceWith(document.adoptNode(header));
    document.querySelector("div.layout")?.replaceWith(document.adoptNode(layout));
    document.title = next.title;
    if (push) window.history.pushState(null, "", url);
    bind();
  }

  async function go(url) {
    if (!url || busy) return;
    busy = true;
    try {
      await show(url);
    } catch (error) {
      say(error.message);
    } finally {
      busy = false;
    }
  }

  function say(text) {
    if (!message) return;
    message.textContent = text;
    message.hidden = false;
    message.classList.add("error");
  }

  async function post(path, body) {
    const response = await fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body),
    });
    let answer = {};
    try {
      answer = await response.json();
    } catch {
      answer = { error: `${response.status} ${response.statusText}` };
    }
    if (!response.ok) {
      const error = new Error(answer.error || `${response.status} ${response.statusText}`);
      error.status = response.status;
      throw error;
    }
    return answer;
  }

  function paperId() {
    return Number(card?.dataset.paperId);
  }

  // A decision that was refused because the paper changed: say what it is now.
  async function explainStale(error) {
    say(error.message);
    try {
      const response = await fetch(`/api/paper/${paperId()}`, { credentials: "same-origin" });
      const paper = await response.json();
      const last = paper.history?.[0];
      const now = `It is now ${paper.status}` + (paper.category ? ` in ${paper.category}` : "");
      say(`${error.message}. ${now}${last ? ` (last: ${last.who}, ${last.kind})` : ""}.`);
    } catch {
      // The refusal itself was said; the details are a courtesy.
    }
  }

  async function decide(body, then) {
    if (!card?.dataset.paperId || busy) return;
    busy = true;
    try {
      await post("/api/decide", {
        paper_id: paperId(),
        version: Number(card.dataset.version),
        ...body,
      });
      await show(then);
      busy = false;
    } catch (error) {
      busy = false;
      if (error.status === 409) await explainStale(error);
      else say(error.message);
    }
  }

  async function undo() {
    if (busy) return;
    busy = true;
    try {
      const answer = await post("/api/undo", {});
      const here = new URL(window.location.href);
      here.searchParams.set("paper", answer.undone.paper_id);
      here.searchParams.delete("rename");
      await show(here.pathname + here.search);
      busy = false;
    } catch (error) {
      busy = false;
      say(error.message);
    }
  }

  function closePanels() {
    if (categoryPanel) categoryPanel.hidden = true;
    if (textPanel) textPanel.hidden = true;
    textField = null;
  }

  function openText(field) {
    if (!textPanel || !card) return;
    closePanels();
    textField = field;
    textLabel.textContent = field === "focus" ? "Focus line" : "Note";
    textInput.value = field === "focus" ? card.dataset.focus : card.dataset.note;
    textPanel.hidden = false;
    textInput.focus();
    textInput.select();
  }

  function chooseCategory(key) {
    closePanels();
    decide({ action: "set", category: key }, card.dataset.hereUrl);
  }

  const actions = {
    a: () => decide({ action: "accept", category: card.dataset.proposed || null }, card.dataset.afterUrl),
    r: () => decide({ action: "reject" }, card.dataset.afterUrl),
    c: () => {
      if (!categoryPanel) return;
      const open = categoryPanel.hidden;
      closePanels();
      categoryPanel.hidden = !open;
    },
    f: () => openText("focus"),
    n: () => openText("note"),
    u: () => undo(),
    j: () => go(card?.dataset.nextUrl),
    k: () => go(card?.dataset.prevUrl),
  };

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest?.("input, textarea, select")) {
      if (event.key === "Escape") {
        closePanels();
        event.target.blur();
      }
      return;
    }
    if (event.key === "Escape") {
      closePanels();
      return;
    }
    if (event.key === "/") {
      event.preventDefault();
      document.getElementById("search")?.focus();
      return;
    }
    if (categoryPanel && !categoryPanel.hidden && /^[1-9]$/.test(event.key)) {
      const button = categoryPanel.querySelectorAll("button[data-category]")[Number(event.key) - 1];
      if (button) {
        event.preventDefault();
        chooseCategory(button.dataset.category);
      }
      return;
    }
    const action = card?.dataset.paperId || event.key === "u" ? actions[event.key] : null;
    if (action) {
      event.preventDefault();
      action();
    }
  });

  function submitText(event) {
    event.preventDefault();
    const field = textField;
    if (!field) return;
    const value = textInput.value.trim();
    const before = field === "focus" ? card.dataset.focus : card.dataset.note;
    closePanels();
    // Enter on an unchanged line is not a decision.
    if (value !== before) decide({ action: "set", [field]: value }, card.dataset.hereUrl);
  }

  window.addEventListener("popstate", () => {
    show(window.location.href, false).catch((error) => say(error.message));
  });
  bind();
})();
