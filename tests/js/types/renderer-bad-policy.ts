// Must NOT type-check: `purge` is declared with a policy that hides it from some pages, so it
// may be absent from `window.todos`.
export async function careless(): Promise<number> {
  return window.todos.purge();
}
