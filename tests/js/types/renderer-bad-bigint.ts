// Must NOT type-check: a 64-bit integer of a `large_ints = "bigint"` contract is a bigint.
export async function wrong(): Promise<void> {
  await window.todos.measure({ bytes: 1, delta: 0n, history: [] }, 1n);
}
