// Must NOT type-check: the chat port sends strings.
export async function wrongMessage(): Promise<void> {
  (await window.todos.chat()).postMessage({ line: "hi" });
}
