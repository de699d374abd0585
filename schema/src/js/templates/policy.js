// The contract's `#[policy(...)]` rules, checked as far as this side can tell: the renderer's
// kind ('window' behind the bridge, 'page' on the WebSocket), its origin and whether it is a
// main frame. Capabilities are granted by the Rust main at run time, so a rule asking for one
// is taken as met here; the Rust main checks every call again, capabilities included.
// `levels` is a method's list of levels (the trait's rules, the method's), each met by any one
// rule; absent where nothing is declared, when the default refuses only a window's subframes.
// Returns null when `who` is admitted, or the text of the rules that refuse it.
function policyRefusal(levels, who) {
  if (levels === undefined || levels === null) {
    return who.kind === 'window' && who.mainFrame !== true ? 'default' : null;
  }
  for (const level of levels) {
    if (!level.some((rule) => ruleAdmits(rule, who))) return level.map(ruleText).join(' or ');
  }
  return null;
}

// Which of `methods` a renderer that is `who` never sees (its API leaves them out): those whose
// policy cannot admit it. Requests are main's calls and have no policy.
function hiddenMethods(methods, who) {
  return methods.map((m) => m.policy !== undefined && policyRefusal(m.policy, who) !== null);
}

function ruleAdmits(rule, who) {
  if (Array.isArray(rule.renderers) && rule.renderers.indexOf(who.kind) < 0) return false;
  if (Array.isArray(rule.origins) && (typeof who.origin !== 'string' || rule.origins.indexOf(who.origin) < 0)) return false;
  if (rule.main_frame === true && who.mainFrame !== true) return false;
  return true;
}

// A rule as the attribute that declares it (what the Rust main names in its `rule` field).
function ruleText(rule) {
  const clauses = [];
  for (const kind of rule.renderers || []) clauses.push(kind);
  for (const origin of rule.origins || []) clauses.push(`origin = ${JSON.stringify(origin)}`);
  if (rule.main_frame === true) clauses.push('main_frame');
  for (const capability of rule.capabilities || []) clauses.push(`capability = ${JSON.stringify(capability)}`);
  return `#[policy(${clauses.join(', ')})]`;
}
