// The portal's page: one script, no framework. Data is always put in the page as text
// (textContent), never as HTML. Every POST carries the session's CSRF token in a header.
"use strict";

let csrf = "";
let session = null;
const $ = (id) => document.getElementById(id);

function say(text, isError) {
  const m = $("melding");
  m.textContent = text;
  m.className = isError ? "fout" : "";
  m.hidden = !text;
}

async function api(method, path, body) {
  const options = { method, headers: {} };
  if (method !== "GET") {
    options.headers["X-CSRF-Token"] = csrf;
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body || {});
  }
  const r = await fetch(path, options);
  const data = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(data.fout || ("Fout " + r.status));
  return data;
}

function cell(row, text, header) {
  const c = document.createElement(header ? "th" : "td");
  if (header) c.scope = header;
  c.textContent = text === null || text === undefined ? "" : String(text);
  row.appendChild(c);
  return c;
}

function formData(form) {
  const out = {};
  for (const el of form.elements) {
    if (!el.name || el.type === "submit" || el.type === "button") continue;
    if (el.type === "checkbox") {
      if (!out[el.name]) out[el.name] = [];
      if (el.checked) out[el.name].push(el.value);
    } else if (el.type === "radio") {
      if (el.checked) out[el.name] = el.value;
    } else if (el.value !== "") {
      out[el.name] = el.value;
    }
  }
  return out;
}

async function busy(button, work) {
  button.disabled = true;
  try {
    await work();
  } catch (e) {
    say(e.message, true);
  } finally {
    button.disabled = false;
  }
}

function fillSelect(select, options, withEmpty) {
  select.replaceChildren();
  if (withEmpty) select.appendChild(new Option("(kies)", ""));
  for (const o of options) select.appendChild(new Option(o.label, o.value));
}

// ---- project coordinator --------------------------------------------------------------------

let choices = null;

async function loadPeople() {
  const data = await api("GET", "/api/people");
  choices = data.choices;
  const table = $("deelnemers");
  const head = table.tHead;
  head.replaceChildren();
  const hr = head.insertRow();
  for (const c of data.columns) cell(hr, c, "col");
  cell(hr, "Actie", "col");
  const body = table.tBodies[0];
  body.replaceChildren();
  for (const row of data.rows) {
    const tr = body.insertRow();
    row.forEach((v, i) => cell(tr, v, i === 0 ? "row" : null));
    const td = cell(tr, "");
    const b = document.createElement("button");
    b.type = "button";
    b.className = "secundair";
    b.textContent = "Uitkomst vastleggen";
    b.setAttribute("aria-label", "Uitkomst vastleggen voor " + row[0]);
    b.dataset.ref = row[0];
    b.addEventListener("click", () => openOutcome(row[0]));
    td.appendChild(b);
  }
  for (const d of data.deleted) {
    const tr = body.insertRow();
    tr.className = "verwijderd";
    cell(tr, d.ref, "row");
    const td = cell(tr, "gegevens verwijderd op verzoek op " + d.date);
    td.colSpan = data.columns.length;
  }
  $("geen-deelnemers").hidden = data.rows.length + data.deleted.length > 0;
}

function openOutcome(ref) {
  const form = $("uitkomst-form");
  form.reset();
  $("uitkomst-ref").value = ref;
  $("uitkomst-kop").textContent = "Uitkomst vastleggen voor " + ref;
  fillSelect($("u-status"), choices.status, true);
  fillSelect($("u-reden"), choices.reden_gestopt, true);
  fillSelect($("u-contract"), choices.contract, true);
  $("u-datum").value = new Date().toISOString().slice(0, 10);
  showStatusFields();
  form.hidden = false;
  $("uitkomst-kop").focus();
}

function showStatusFields() {
  const s = $("u-status").value;
  $("u-reden-veld").hidden = s !== "gestopt";
  $("u-contract-veld").hidden = s !== "betaald-werk";
}

function initProject() {
  $("project").hidden = false;
  $("bijwerken").addEventListener("click", (e) =>
    busy(e.target, async () => {
      await api("POST", "/api/sync");
      await loadPeople();
      say("Bijgewerkt.");
    }));
  $("u-status").addEventListener("change", showStatusFields);
  $("u-annuleren").addEventListener("click", () => { $("uitkomst-form").hidden = true; });
  $("uitkomst-form").addEventListener("submit", (e) => {
    e.preventDefault();
    busy($("u-opslaan"), async () => {
      const ref = $("uitkomst-ref").value;
      const data = formData(e.target);
      if ($("u-reden-veld").hidden) delete data.reden_gestopt;
      if ($("u-contract-veld").hidden) delete data.contract;
      await api("POST", "/api/people/" + encodeURIComponent(ref) + "/outcome", data);
      e.target.hidden = true;
      await loadPeople();
      say("Uitkomst voor " + ref + " is verstuurd.");
    });
  });
  // The portal pulls the feed in the background; the table follows every 30 s, unless the
  // keyboard focus is inside it (a refresh would move it).
  setInterval(() => {
    if (!$("deelnemers").contains(document.activeElement)) loadPeople().catch(() => {});
  }, 30000);
  return loadPeople();
}

// ---- consulent of the gemeente --------------------------------------------------------------

async function loadOutcomes() {
  const data = await api("GET", "/api/outcomes");
  const body = $("uitkomsten").tBodies[0];
  body.replaceChildren();
  for (const o of data.outcomes) {
    const tr = body.insertRow();
    for (const k of ["bsn", "project", "status", "date", "reden_gestopt", "uren_per_week"]) cell(tr, o[k]);
  }
}

async function showConsents(bsn) {
  const data = await api("POST", "/api/consents/search", { bsn });
  const table = $("toestemmingen");
  const body = table.tBodies[0];
  body.replaceChildren();
  for (const c of data.consents) {
    const tr = body.insertRow();
    const partner = session.partners.find((p) => p.id === c.grantee);
    cell(tr, partner ? partner.name : c.grantee === session.organisation ? "de gemeente zelf" : c.grantee);
    cell(tr, c.purpose);
    cell(tr, c.categories.join(", "));
    cell(tr, c.valid_from + " t/m " + c.valid_until);
    cell(tr, c.status === "active" ? "actief" : c.status === "withdrawn" ? "ingetrokken" : c.status);
    const td = cell(tr, "");
    if (c.status === "active") {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "secundair";
      b.textContent = "Intrekken";
      b.setAttribute("aria-label", "Toestemming aan " + (partner ? partner.name : c.grantee) + " intrekken");
      b.addEventListener("click", () =>
        busy(b, async () => {
          await api("POST", "/api/consents/" + encodeURIComponent(c.id) + "/withdraw");
          say("De toestemming is ingetrokken. Het project krijgt een verwijderverzoek.");
          await showConsents(bsn);
        }));
      td.appendChild(b);
    }
  }
  table.hidden = false;
}

function initGemeente() {
  $("gemeente").hidden = false;
  for (const id of ["t-project", "v-project"]) {
    fillSelect($(id), session.partners.map((p) => ({ value: p.id, label: p.name })), false);
  }
  const today = new Date().toISOString().slice(0, 10);
  $("t-van").value = today;
  const year = new Date();
  year.setFullYear(year.getFullYear() + 1);
  $("t-tot").value = year.toISOString().slice(0, 10);
  const purposeChanged = () => {
    $("t-project-veld").hidden = $("t-doel-resultaat").checked;
  };
  $("t-doel-begeleiding").addEventListener("change", purposeChanged);
  $("t-doel-resultaat").addEventListener("change", purposeChanged);
  $("toestemming-form").addEventListener("submit", (e) => {
    e.preventDefault();
    busy($("t-opslaan"), async () => {
      const data = formData(e.target);
      if ($("t-doel-resultaat").checked) delete data.project;
      await api("POST", "/api/consents", data);
      $("t-bsn").value = "";
      $("t-kenmerk").value = "";
      say("De toestemming is vastgelegd.");
    });
  });
  $("verwijzing-form").addEventListener("submit", (e) => {
    e.preventDefault();
    busy($("v-opslaan"), async () => {
      const r = await api("POST", "/api/referrals", formData(e.target));
      e.target.reset();
      say(r.status === "duplicate" ? "Deze verwijzing bestond al." : "De deelnemer is verwezen.");
    });
  });
  $("intrekken-form").addEventListener("submit", (e) => {
    e.preventDefault();
    busy($("i-zoeken"), () => showConsents($("i-bsn").value));
  });
  $("g-bijwerken").addEventListener("click", (e) =>
    busy(e.target, async () => {
      await api("POST", "/api/sync");
      await loadOutcomes();
    }));
  $("rapport-form").addEventListener("submit", (e) => {
    e.preventDefault();
    busy($("r-tonen"), async () => {
      const q = new URLSearchParams({ from: $("r-van").value, to: $("r-tot").value });
      const r = await api("GET", "/api/report?" + q.toString());
      const table = $("rapport");
      const head = table.tHead;
      head.replaceChildren();
      const hr = head.insertRow();
      cell(hr, "Project", "col");
      for (const c of r.columns) cell(hr, c, "col");
      cell(hr, "Totaal", "col");
      const body = table.tBodies[0];
      body.replaceChildren();
      const show = (v) => (v === null ? "x" : v);
      r.rows.forEach((name, i) => {
        const tr = body.insertRow();
        cell(tr, name, "row");
        for (const v of r.cells[i]) cell(tr, show(v));
        cell(tr, show(r.row_totals[i]));
      });
      table.hidden = false;
    });
  });
  return loadOutcomes();
}

// ---- FG (auditor) ---------------------------------------------------------------------------

async function checkState() {
  const s = await api("GET", "/api/log/state");
  const dl = $("staat");
  dl.replaceChildren();
  const item = (k, v, cls) => {
    const dt = document.createElement("dt");
    dt.textContent = k;
    const dd = document.createElement("dd");
    dd.textContent = v;
    if (cls) dd.className = cls;
    dl.append(dt, dd);
  };
  item("Aantal gebeurtenissen", s.size);
  item("Laatste ondertekende controlepunt", s.time);
  item("Handtekening", s.signature_valid ? "klopt" : "klopt NIET", s.signature_valid ? "goed" : "slecht");
  item("Vorige controle", s.kept_size === null ? "geen (eerste controle)" : s.kept_size + " gebeurtenissen");
  item("Consistent met de vorige controle",
       s.consistent === null ? "nog niet te bepalen" : s.consistent ? "ja" : "NEE",
       s.consistent === false ? "slecht" : s.consistent ? "goed" : "");
  $("oordeel").textContent = s.verdict;
}

function showEvents(title, events) {
  $("gebeurtenissen-titel").textContent = title + " (" + events.length + ")";
  const body = $("gebeurtenissen").tBodies[0];
  body.replaceChildren();
  for (const e of events) {
    const tr = body.insertRow();
    cell(tr, e.time);
    cell(tr, e.actor);
    cell(tr, e.action);
    cell(tr, e.purpose);
    cell(tr, e.recipient);
    cell(tr, e.decision === "permit" ? "toegestaan" : "geweigerd" + (e.reason ? " (" + e.reason + ")" : ""));
    cell(tr, e.fields.join(", "));
  }
  $("gebeurtenissen").hidden = false;
}

function initAuditor() {
  $("auditor").hidden = false;
  $("staat-controleren").addEventListener("click", (e) => busy(e.target, checkState));
  $("verifieren").addEventListener("click", (e) =>
    busy(e.target, async () => {
      $("oordeel").textContent = "Bezig met exporteren en verifiëren…";
      const v = await api("POST", "/api/log/verify");
      $("oordeel").textContent = v.verdict;
      $("oordeel").className = v.verified ? "goed" : "slecht";
    }));
  $("zoek-form").addEventListener("submit", (e) => {
    e.preventDefault();
    busy($("z-zoeken"), async () => {
      const r = await api("POST", "/api/log/search", formData(e.target));
      showEvents("Gebeurtenissen", r.events);
    });
  });
  $("persoon-form").addEventListener("submit", (e) => {
    e.preventDefault();
    busy($("p-zoeken"), async () => {
      const r = await api("POST", "/api/log/person", { bsn: $("p-bsn").value });
      $("p-bsn").value = "";
      showEvents("Inzage: wie zag gegevens van deze persoon", r.events);
    });
  });
  return checkState();
}

// ---- start ----------------------------------------------------------------------------------

async function start() {
  try {
    session = await api("GET", "/api/session");
  } catch (e) {
    say("Niet ingelogd: open het portaal met de link die brug portal liet zien.", true);
    return;
  }
  csrf = session.csrf;
  const roles = { project: "projectcoördinator", gemeente: "consulent gemeente", auditor: "functionaris gegevensbescherming" };
  $("wie").textContent = session.organisation + " — " + (roles[session.role] || session.role);
  $("sync-status").textContent = session.sync_problem || (session.last_sync ? "Bijgewerkt: " + session.last_sync : "");
  document.body.dataset.role = session.role;
  try {
    if (session.role === "project") await initProject();
    if (session.role === "gemeente") await initGemeente();
    if (session.role === "auditor") await initAuditor();
  } catch (e) {
    say(e.message, true);
  }
  document.body.dataset.ready = "1";
}

document.addEventListener("DOMContentLoaded", start);
