// Must NOT type-check: bytes are a Uint8Array, not base64 text or an array of numbers.
export async function wrong(): Promise<void> {
  await window.todos.attach(1, "AAEC");
  await window.todos.setView({ order: "newest", filters: [], page: { t: "all" }, pinned: [], icon: [1, 2] });
  await window.todos.setView({ order: "newest", filters: [{ by: "colour" }], page: { t: "all" }, pinned: [], icon: null });
}
