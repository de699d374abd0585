// Must NOT type-check: a timestamp is a Date, not its text.
export async function wrong(): Promise<void> {
  await window.todos.postpone("1970-01-01T00:00:00Z", 0, false);
}
