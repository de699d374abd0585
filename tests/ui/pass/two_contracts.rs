//! Two #[channels] traits in one module, with a method name in common, served by one `Main`.

use ipc_runtime::{Caller, Main, RendererOptions, channels};

#[channels(namespace = "todos")]
pub trait Todos {
    async fn get(&self, id: u32) -> String;
    async fn count(&self) -> u32;
}

/// No namespace given: the default is the trait name in snake_case.
#[channels]
pub trait UserSettings {
    async fn get(&self, key: String) -> String;
    #[send]
    fn set(&self, key: String, value: String);
}

struct TodoBackend;

impl TodosHandler for TodoBackend {
    async fn get(&self, _caller: &Caller, id: u32) -> String {
        format!("todo #{id}")
    }

    async fn count(&self, _caller: &Caller) -> u32 {
        2
    }
}

struct SettingsBackend;

impl UserSettingsHandler for SettingsBackend {
    async fn get(&self, _caller: &Caller, key: String) -> String {
        format!("value of {key}")
    }

    async fn set(&self, _caller: &Caller, _key: String, _value: String) {}
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let main = Main::new();
    let _todos = Todos::handle(&main, TodoBackend).unwrap();
    let _settings = UserSettings::handle(&main, SettingsBackend).unwrap();
    let renderer = main.connect_in_process(RendererOptions::new("window"));
    let todos = Todos::client(&renderer);
    let settings = UserSettings::client(&renderer);

    assert_eq!(todos.get(1).await.unwrap(), "todo #1");
    assert_eq!(todos.count().await.unwrap(), 2);
    assert_eq!(
        settings.get("theme".to_string()).await.unwrap(),
        "value of theme"
    );
    settings
        .set("theme".to_string(), "dark".to_string())
        .unwrap();

    assert_eq!(Todos::GET.name(), "todos:get");
    assert_eq!(UserSettings::GET.name(), "user_settings:get");
    assert_eq!(Todos::schema().namespace, "todos");
    assert_eq!(UserSettings::schema().namespace, "user_settings");
    assert_eq!(UserSettings::schema().name, "UserSettings");
    assert_ne!(Todos::contract_hash(), UserSettings::contract_hash());
    // Registering a contract twice is refused as a whole.
    assert!(Todos::handle(&main, TodoBackend).is_err());
}
