//! `crate = "..."`: the runtime reached under another path, as a crate that re-exports it would.

extern crate ipc_runtime as ipc;

mod reexport {
    pub use ::ipc_runtime as rt;
}

use ipc::{Caller, Main, RendererOptions};

#[ipc::data(crate = "ipc")]
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Point {
    pub x: i32,
    pub y: i32,
}

/// Through the `extern crate` alias.
#[ipc::channels(namespace = "geometry", crate = "ipc")]
pub trait Geometry {
    async fn mirror(&self, point: Point) -> Point;
}

/// Through a `use ... as` re-export in a module.
#[reexport::rt::channels(crate = "crate::reexport::rt")]
pub trait Counter {
    async fn next(&self) -> u32;
    #[event]
    fn ticked(&self, value: u32);
}

struct Backend;

impl GeometryHandler for Backend {
    async fn mirror(&self, _caller: &Caller, point: Point) -> Point {
        Point {
            x: -point.x,
            y: -point.y,
        }
    }
}

impl CounterHandler for Backend {
    async fn next(&self, _caller: &Caller) -> u32 {
        7
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let main = Main::new();
    let _geometry = Geometry::handle(&main, Backend).unwrap();
    let _counter = Counter::handle(&main, Backend).unwrap();
    let renderer = main.connect_in_process(RendererOptions::new("window"));
    assert_eq!(
        Geometry::client(&renderer)
            .mirror(Point { x: 1, y: 2 })
            .await
            .unwrap(),
        Point { x: -1, y: -2 }
    );
    assert_eq!(Counter::client(&renderer).next().await.unwrap(), 7);
    assert_eq!(Counter::events(&main).ticked(ipc::Target::All, 1), 1);
    let schema = Geometry::schema();
    assert!(schema.types.contains_key("Point"));
    assert_eq!(Counter::schema().namespace, "counter");
}
