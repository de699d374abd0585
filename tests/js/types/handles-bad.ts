export async function handles(): Promise<void> {
  const notebook = await window.todos.openNotebook("shopping");
  await notebook.write(42);
}
