// The Node.js the `trove` command needs, checked before anything else loads (plain JavaScript that
// any Node since 14 parses, so an old Node gets this sentence instead of a syntax error or a
// native module's crash). 20.9 is sharp's minimum (sharp decodes every image); the rest of the
// runtime needs less. Building the UI and running the tests need more (README.md, "Install").
export const MINIMUM_NODE = '20.9.0';

function parts(version) {
  return String(version).replace(/^v/, '').split('.').map((n) => Number.parseInt(n, 10) || 0);
}

/** A message when `version` is older than MINIMUM_NODE, else null. */
export function nodeVersionProblem(version) {
  const have = parts(version);
  const need = parts(MINIMUM_NODE);
  for (let i = 0; i < 3; i++) {
    if ((have[i] ?? 0) > need[i]) return null;
    if ((have[i] ?? 0) < need[i]) {
      return `trove needs Node.js ${MINIMUM_NODE} or newer; this is Node.js ${String(version).replace(/^v/, '')}. Install a current LTS release from https://nodejs.org (or: nvm install --lts), then run npm install again.`;
    }
  }
  return null;
}
