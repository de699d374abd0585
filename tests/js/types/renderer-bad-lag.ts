// Must NOT type-check: `onLag` receives the number of missed events.
export function wrongLag(): void {
  window.todos.onChanged(() => {}, { onLag: (missed: string) => console.log(missed) });
}
