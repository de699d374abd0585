// Must NOT type-check: `import` takes a source of strings.
export async function wrongSource(): Promise<void> {
  await window.todos.import([1, 2, 3]);
}
