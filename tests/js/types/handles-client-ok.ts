import { connect } from "./client.mjs";
import type { NotebookHandle } from "./client.mjs";

export async function handles(): Promise<void> {
  const todos = await connect("ws://127.0.0.1:1/ipc");
  const notebook: NotebookHandle = await todos.openNotebook("shopping");
  const lines: string[] = await notebook.read();
  console.log(lines.length, notebook.released);
  notebook.release();
}
