// Must NOT type-check: a sync call gives the value itself, which is not a promise.
export async function wrong(): Promise<void> {
  const later: Promise<number> = window.todos.lookup(1, 0);
  await later;
}
