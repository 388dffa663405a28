// Small enhancements over pages that work as plain forms and links.
"use strict";

document.addEventListener("change", (event) => {
  // A select marked data-autosubmit (the workspace switcher) sends its form at once.
  if (event.target.matches("select[data-autosubmit]")) event.target.form.requestSubmit();
});

// The draft of a dataset page: items added, edited and deleted in this tab, kept in
// sessionStorage (so paging and filtering keep it) and sent as one form, which the server
// saves as one new version.
(() => {
  const table = document.getElementById("items");
  const panel = document.getElementById("draft");
  if (!table || !panel) return;
  const datasetId = table.dataset.dataset;
  const storageKey = `seedbed-draft-${datasetId}`;
  const base = document.getElementById("draft-base").value;
  const $ = (id) => document.getElementById(id);
  const editor = $("item-editor"), json = $("item-json"), jsonError = $("item-json-error");
  const editorLabel = $("item-editor-label"), submit = $("item-editor-submit");
  const cancel = $("item-editor-cancel");

  const empty = () => ({ base, added: [], edited: [], deleted: [] });
  const load = () => {
    try {
      const saved = JSON.parse(sessionStorage.getItem(storageKey));
      // A draft begun on an older version is kept: saving it then says the dataset
      // changed meanwhile, rather than losing the person's work.
      if (saved && Array.isArray(saved.added)) return saved;
    } catch (error) { /* an unreadable draft starts again */ }
    return empty();
  };
  let draft = load();
  if (new URLSearchParams(location.search).has("saved")) draft = empty();
  let editing = null;  // the id of the item being edited, or null when adding

  const save = () => {
    sessionStorage.setItem(storageKey, JSON.stringify(draft));
    render();
  };
  const short = (id) => id.slice(-8);

  function render() {
    const { added, edited, deleted } = draft;
    $("draft-summary").textContent = added.length + edited.length + deleted.length
      ? `${added.length} added, ${edited.length} edited, ${deleted.length} deleted (not saved yet)`
      : "No changes yet.";
    const list = $("draft-list");
    list.replaceChildren();
    const entry = (text, undo) => {
      const li = document.createElement("li");
      li.textContent = text + " ";
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = "Undo";
      button.setAttribute("aria-label", `Undo: ${text}`);
      button.addEventListener("click", () => { undo(); save(); });
      li.append(button);
      list.append(li);
    };
    added.forEach((change, index) => entry(`Add ${JSON.stringify(change.data).slice(0, 60)}`,
      () => added.splice(index, 1)));
    edited.forEach((change, index) => entry(`Edit item ${short(change.id)}`,
      () => edited.splice(index, 1)));
    deleted.forEach((id, index) => entry(`Delete item ${short(id)}`,
      () => deleted.splice(index, 1)));
    for (const row of table.querySelectorAll("tr[data-item-id]")) {
      const id = row.dataset.itemId;
      row.classList.toggle("draft-deleted", deleted.includes(id));
      row.classList.toggle("draft-edited", edited.some((change) => change.id === id));
    }
    $("draft-changes").value = JSON.stringify({ added, edited, deleted });
    $("draft-base").value = draft.base;
  }

  function resetEditor() {
    editing = null;
    editorLabel.textContent = "New item (JSON object)";
    submit.textContent = "Add to draft";
    cancel.hidden = true;
    json.value = "{}";
    jsonError.hidden = true;
  }

  editor.addEventListener("submit", (event) => {
    event.preventDefault();
    let data;
    try {
      data = JSON.parse(json.value);
    } catch (error) {
      data = undefined;
    }
    if (!data || typeof data !== "object" || Array.isArray(data)) {
      jsonError.textContent = "The item must be a JSON object, such as {\"question\": \"…\"}";
      jsonError.hidden = false;
      json.focus();
      return;
    }
    if (editing) {
      draft.edited = draft.edited.filter((change) => change.id !== editing);
      draft.edited.push({ id: editing, data });
    } else {
      draft.added.push({ data });
    }
    resetEditor();
    save();
  });
  cancel.addEventListener("click", resetEditor);

  table.addEventListener("click", (event) => {
    const row = event.target.closest("tr[data-item-id]");
    if (!row) return;
    const id = row.dataset.itemId;
    if (event.target.matches("[data-edit]")) {
      const pending = draft.edited.find((change) => change.id === id);
      const data = pending ? pending.data : JSON.parse(row.querySelector(".item-data").textContent);
      editing = id;
      editorLabel.textContent = `Item ${short(id)} (JSON object)`;
      submit.textContent = "Keep edit in draft";
      cancel.hidden = false;
      json.value = JSON.stringify(data, null, 2);
      jsonError.hidden = true;
      json.focus();
    } else if (event.target.matches("[data-delete]")) {
      if (!draft.deleted.includes(id)) draft.deleted.push(id);
      save();
    }
  });

  $("draft-discard").addEventListener("click", () => {
    draft = empty();
    resetEditor();
    save();
  });

  panel.hidden = false;
  for (const button of table.querySelectorAll("[data-edit], [data-delete]")) button.hidden = false;
  render();
})();
