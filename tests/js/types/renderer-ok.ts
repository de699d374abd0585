// A renderer using every method kind of the generated `window.todos`; must type-check under
// `tsc --strict`.
import type {
  IpcDisposer,
  IpcSubscribeOptions,
  IpcFrameworkError,
  Schedule,
  StatsReport,
  Usage,
  View,
  Todo,
  TodoError,
  TodosApi,
  TodosErrors,
} from "./todos";

export async function renderer(): Promise<void> {
  const api: TodosApi = window.todos;

  // invoke, with and without options
  const todo: Todo = await api.add("buy milk");
  const toggled: Todo = await window.todos.toggle(todo.id, { timeoutMs: 1000 });
  const all: Todo[] = await window.todos.list();
  const controller = new AbortController();
  const slept: number = await window.todos.slow(10, { signal: controller.signal, timeoutMs: 50 });
  const stats: StatsReport = await window.todos.stats();

  // a sync call: the value itself (the page blocks), its errors thrown
  const found: Todo = window.todos.lookup(todo.id, 0);
  try {
    window.todos.lookup(99, 0);
  } catch (e) {
    const error = e as TodosErrors["lookup"];
    if (error.name === "IpcAppError") console.log(error.data.kind, found.title);
  }

  // timestamps are Dates, durations numbers of milliseconds
  const later: Date = await window.todos.postpone(new Date(-1500), 250.5, false);
  const schedule: Schedule = await window.todos.schedule(todo.id, { due: later, remind_every: null, snoozed: [new Date(0)] });
  const due: Date | null = await window.todos.due(todo.id);
  console.log(schedule.due.getTime(), schedule.snoozed[0].toISOString(), due?.getUTCFullYear());
  const offScheduled: IpcDisposer = window.todos.onScheduled((id: number, s: Schedule) => console.log(id, s.due.getTime()));
  offScheduled();

  // 64-bit integers are bigints (the contract says large_ints = "bigint")
  const usage: Usage = await window.todos.measure({ bytes: 2n ** 64n - 1n, delta: -1n, history: [] }, 0n);
  const total: bigint = usage.bytes + usage.history.reduce((a, b) => a + b, 0n);
  console.log(total);

  // bytes are Uint8Arrays, any ArrayBuffer view is accepted (a Bytes argument, a #[bytes] field)
  const size: number = await window.todos.attach(todo.id, new Uint8Array([1, 2, 3]));
  const file: Uint8Array = await window.todos.attachment(todo.id);
  console.log(size, file.byteLength);

  // enums of every representation; small integers keep their number type
  const view: View = await window.todos.setView({
    order: { by_title: { descending: true } },
    filters: [{ by: "done", done: false }, { by: "all" }],
    page: { t: "range", c: [0, 20] },
    pinned: [7, "milk"],
    icon: new Uint8Array(4),
  });
  if (view.page.t === "range") console.log(view.page.c[1].toFixed());
  const kept: View | null = await window.todos.view();
  console.log(kept?.icon?.byteLength);

  // send
  const nothing: void = window.todos.log(`${toggled.title} ${all.length} ${slept} ${stats.cancelled}`);
  void nothing;

  // events and their disposers
  const dispose: IpcDisposer = window.todos.onChanged((changed) => {
    const done: boolean = changed.done;
    console.log(done);
  });
  dispose();
  const stop = window.todos.onAnnounce((message) => console.log(message.toUpperCase()));
  stop();
  // with a lag handler: told how many events the page missed
  const options: IpcSubscribeOptions = { onLag: (missed) => console.log(missed.toFixed(0)) };
  const withLag: IpcDisposer = window.todos.onChanged((changed) => console.log(changed.id), options);
  withLag();
  window.todos.onAnnounce(() => {}, { onLag: (missed: number) => console.log(missed + 1) })();
  window.todos.onAnnounce(() => {}, {})();

  // the error union of a fallible method
  try {
    await window.todos.toggle(99);
  } catch (e) {
    const error = e as TodosErrors["toggle"];
    if (error.name === "IpcAppError") {
      const data: TodoError = error.data;
      console.log(data.kind, data.id, error.channel);
    } else {
      const code: IpcFrameworkError["code"] = error.code;
      console.log(code, error.afterMs, error.message);
    }
  }

  // What the types refuse:
  // @ts-expect-error the API is read-only
  window.todos = api;
  // @ts-expect-error a missing argument
  await window.todos.add();
  // @ts-expect-error an unknown option
  await window.todos.list({ timeout: 5 });
  // @ts-expect-error a sync call returns the value, not a promise
  window.todos.lookup(1, 0).then;
  // @ts-expect-error a sync call takes no options
  window.todos.lookup(1, 0, { timeoutMs: 5 });
  // @ts-expect-error sends return nothing to await on
  window.todos.log("x").then;
  // @ts-expect-error an undeclared channel
  window.todos.send("todos:add", "x");
  // @ts-expect-error listeners receive a Todo, not a string
  window.todos.onChanged((text: string) => console.log(text));
  // @ts-expect-error onLag receives a number of missed events, not a string
  window.todos.onChanged(() => {}, { onLag: (missed: string) => console.log(missed) });
  // @ts-expect-error onLag is a function
  window.todos.onChanged(() => {}, { onLag: 5 });
  // @ts-expect-error an unknown subscription option
  window.todos.onChanged(() => {}, { onlag: () => {} });
  // @ts-expect-error invoke options are not subscription options
  window.todos.onChanged(() => {}, { timeoutMs: 5 });
}

// A method the contract's policy may hide from a page is optional: checked before use.
export async function purgeIfAllowed(): Promise<number> {
  return window.todos.purge ? window.todos.purge() : 0;
}
