export async function objects(): Promise<void> {
  await window.todos.export({ take: (todo: { id: string }) => todo.id === "" });
  await window.todos.export({ take: () => "yes" });
  await window.todos.export({ tak: () => true });
}
