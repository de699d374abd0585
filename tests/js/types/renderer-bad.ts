// Must NOT type-check: `add` takes a string title.
export async function wrong(): Promise<void> {
  await window.todos.add(42);
}
