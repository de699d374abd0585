//! How the small integers of `#[data]` types are described: `number /* u32 */`
//! ([`ipc_schema::naming::int_description`]), so that the generated JavaScript checks know their
//! range wherever they are nested. Descriptions only: the values cross as the integers they are.

macro_rules! described_ints {
    ($($marker:ident = $int:literal),* $(,)?) => {$(
        #[doc = concat!("Describes a `", $int, "` as `number /* ", $int, " */`.")]
        #[derive(Debug, Clone, Copy)]
        pub struct $marker;

        impl ts_rs::TS for $marker {
            type WithoutGenerics = Self;
            type OptionInnerType = Self;
            fn name(_: &ts_rs::Config) -> String {
                ipc_schema::naming::int_description($int)
            }
            fn inline(cfg: &ts_rs::Config) -> String {
                Self::name(cfg)
            }
        }
    )*};
}

described_ints!(
    U8 = "u8",
    U16 = "u16",
    U32 = "u32",
    I8 = "i8",
    I16 = "i16",
    I32 = "i32"
);
