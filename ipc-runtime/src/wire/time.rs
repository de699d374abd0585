//! Time values on the wire (`docs/PROTOCOL.md` §4, "Time values"): one form for every timestamp type and one
//! for every duration type, whichever crate the contract's type comes from.
//!
//! - A timestamp ([`Timestamp`]: `std::time::SystemTime`, and with the crate's features
//!   `chrono::DateTime<Utc | FixedOffset>`, `time::OffsetDateTime` / `UtcDateTime`,
//!   `jiff::Timestamp`) is an RFC 3339 string in UTC, `1969-07-20T20:17:40.5Z`: years 0000 to
//!   9999, the fraction in 0, 3, 6 or 9 digits (exact to the nanosecond). A JavaScript peer reads
//!   and writes it as a `Date`.
//! - A duration ([`Millis`]: `std::time::Duration`, `chrono::TimeDelta`, `time::Duration`,
//!   `jiff::SignedDuration`) is a number of milliseconds, fractional below one (what JavaScript's
//!   timers take): exact to the nanosecond up to 2^31 ms (24 days), to the microsecond up to 70
//!   years.
//!
//! Serde's own forms differ from crate to crate (`SystemTime`'s refuses dates before 1970), so
//! `#[data]` and `#[channels]` give every time value of a contract this form instead, through
//! `serde_with`'s adapters: on a `#[data]` field with `#[serde(with = ...)]`, in a method's
//! arguments and results with [`Wire`].

use std::fmt::{self, Write as _};
use std::marker::PhantomData;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::{self, Deserializer, Visitor};
use serde::ser::{self, Serializer};
use serde::{Deserialize, Serialize};
use serde_with::{DeserializeAs, SerializeAs};

/// The wire form of a timestamp: an RFC 3339 string in UTC (a `Date` in JavaScript).
#[derive(Debug, Clone, Copy)]
pub struct Timestamp;

/// The wire form of a duration: a number of milliseconds (a `number` in JavaScript).
#[derive(Debug, Clone, Copy)]
pub struct Millis;

impl ts_rs::TS for Timestamp {
    type WithoutGenerics = Self;
    type OptionInnerType = Self;
    fn name(_: &ts_rs::Config) -> String {
        "Date".to_owned()
    }
    fn inline(cfg: &ts_rs::Config) -> String {
        Self::name(cfg)
    }
}

impl ts_rs::TS for Millis {
    type WithoutGenerics = Self;
    type OptionInnerType = Self;
    fn name(_: &ts_rs::Config) -> String {
        "number".to_owned()
    }
    fn inline(cfg: &ts_rs::Config) -> String {
        Self::name(cfg)
    }
}

/// A value of a method's arguments or result carried in its wire form `F` (a [`Timestamp`], a
/// [`Millis`], or a container of them such as `Option<Timestamp>`, with `serde_with::Same` for
/// what is carried as it is). Generated code wraps and unwraps it; callers never see it.
pub struct Wire<T, F>(pub T, pub PhantomData<fn() -> F>);

// By hand: the form `F` is a marker, never a value, so it needs none of these.
impl<T: Clone, F> Clone for Wire<T, F> {
    fn clone(&self) -> Self {
        Wire::new(self.0.clone())
    }
}

impl<T: fmt::Debug, F> fmt::Debug for Wire<T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<T, F> Wire<T, F> {
    /// Wraps `value`.
    pub fn new(value: T) -> Self {
        Wire(value, PhantomData)
    }
}

/// A value carried in a wire form, and the value itself.
pub trait Unwire {
    /// The value.
    type Value;
    /// Unwraps it.
    fn unwire(self) -> Self::Value;
}

impl<T, F> Unwire for Wire<T, F> {
    type Value = T;
    fn unwire(self) -> T {
        self.0
    }
}

impl<T, F: SerializeAs<T>> Serialize for Wire<T, F> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        F::serialize_as(&self.0, serializer)
    }
}

impl<'de, T, F: DeserializeAs<'de, T>> Deserialize<'de> for Wire<T, F> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        F::deserialize_as(deserializer).map(Wire::new)
    }
}

const NANOS_PER_SEC: i128 = 1_000_000_000;
/// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59.999999999Z, in nanoseconds since 1970.
const MIN_NANOS: i128 = -62_167_219_200 * NANOS_PER_SEC;
const MAX_NANOS: i128 = 253_402_300_800 * NANOS_PER_SEC - 1;
const RANGE: &str = "years 0000 to 9999";

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date of a day since 1970-01-01 (`civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `nanos` since 1970 as RFC 3339 text, or `None` outside years 0000 to 9999.
pub(crate) fn format_rfc3339(nanos: i128) -> Option<String> {
    if !(MIN_NANOS..=MAX_NANOS).contains(&nanos) {
        return None;
    }
    let secs = nanos.div_euclid(NANOS_PER_SEC) as i64;
    let fraction = nanos.rem_euclid(NANOS_PER_SEC) as u32;
    let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
    let of_day = secs.rem_euclid(86_400);
    let mut text = String::with_capacity(30);
    let _ = write!(
        text,
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60
    );
    let _ = match fraction {
        0 => Ok(()),
        _ if fraction % 1_000_000 == 0 => write!(text, ".{:03}", fraction / 1_000_000),
        _ if fraction % 1000 == 0 => write!(text, ".{:06}", fraction / 1000),
        _ => write!(text, ".{fraction:09}"),
    };
    text.push('Z');
    Some(text)
}

/// The nanoseconds since 1970 of an RFC 3339 timestamp (`2024-05-01T12:00:00.25+02:00`), or why
/// it is not one.
pub(crate) fn parse_rfc3339(text: &str) -> Result<i128, &'static str> {
    let bytes = text.as_bytes();
    let digits = |from: usize, count: usize| -> Result<i64, &'static str> {
        let part = bytes.get(from..from + count).ok_or("it ends too early")?;
        part.iter().try_fold(0i64, |value, &b| {
            if b.is_ascii_digit() {
                Ok(value * 10 + i64::from(b - b'0'))
            } else {
                Err("a digit is missing")
            }
        })
    };
    let expect = |at: usize, allowed: &[u8]| -> Result<(), &'static str> {
        match bytes.get(at) {
            Some(b) if allowed.contains(b) => Ok(()),
            _ => Err("it is not laid out as YYYY-MM-DDTHH:MM:SS"),
        }
    };
    let year = digits(0, 4)?;
    expect(4, b"-")?;
    let month = digits(5, 2)?;
    expect(7, b"-")?;
    let day = digits(8, 2)?;
    expect(10, b"Tt")?;
    let hour = digits(11, 2)?;
    expect(13, b":")?;
    let minute = digits(14, 2)?;
    expect(16, b":")?;
    let second = digits(17, 2)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return Err("no such date");
    }
    if hour > 23 || minute > 59 {
        return Err("no such time of day");
    }
    if second > 59 {
        return Err("leap seconds are not represented");
    }
    let mut at = 19;
    let mut fraction: i128 = 0;
    if bytes.get(at) == Some(&b'.') {
        at += 1;
        let start = at;
        while bytes.get(at).is_some_and(u8::is_ascii_digit) {
            at += 1;
        }
        let count = at - start;
        if count == 0 || count > 9 {
            return Err("the fraction of a second has 1 to 9 digits");
        }
        fraction = i128::from(digits(start, count)?) * 10i128.pow((9 - count) as u32);
    }
    let offset_secs = match bytes.get(at) {
        Some(b'Z' | b'z') => {
            at += 1;
            0
        }
        Some(sign @ (b'+' | b'-')) => {
            let sign = if *sign == b'+' { 1 } else { -1 };
            let hours = digits(at + 1, 2)?;
            expect(at + 3, b":")?;
            let minutes = digits(at + 4, 2)?;
            if hours > 23 || minutes > 59 {
                return Err("no such offset");
            }
            at += 6;
            sign * (hours * 3600 + minutes * 60)
        }
        _ => return Err("the offset (Z or +HH:MM) is missing"),
    };
    if at != bytes.len() {
        return Err("something follows the offset");
    }
    let secs = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second
        - offset_secs;
    let nanos = i128::from(secs) * NANOS_PER_SEC + fraction;
    if !(MIN_NANOS..=MAX_NANOS).contains(&nanos) {
        return Err("it is outside years 0000 to 9999 in UTC");
    }
    Ok(nanos)
}

/// A time value as nanoseconds since 1970 (a timestamp) or in all (a duration), both ways.
trait AsNanos: Sized {
    fn to_nanos(&self) -> Option<i128>;
    fn from_nanos(nanos: i128) -> Option<Self>;
}

fn serialize_timestamp<T: AsNanos, S: Serializer>(
    value: &T,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value.to_nanos().and_then(format_rfc3339) {
        Some(text) => serializer.serialize_str(&text),
        None => Err(ser::Error::custom(format_args!(
            "a timestamp outside {RANGE} cannot be sent"
        ))),
    }
}

fn deserialize_timestamp<'de, T: AsNanos, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<T, D::Error> {
    struct Text;
    impl Visitor<'_> for Text {
        type Value = i128;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(
                f,
                "an RFC 3339 timestamp such as \"2024-05-01T12:00:00.000Z\" ({RANGE})"
            )
        }
        fn visit_str<E: de::Error>(self, text: &str) -> Result<i128, E> {
            parse_rfc3339(text).map_err(|why| {
                E::custom(format_args!(
                    "invalid timestamp {text:?}: {why} (expected RFC 3339, such as \"2024-05-01T12:00:00.000Z\")"
                ))
            })
        }
    }
    let nanos = deserializer.deserialize_str(Text)?;
    T::from_nanos(nanos)
        .ok_or_else(|| de::Error::custom("the timestamp is outside what its Rust type can hold"))
}

fn serialize_millis<T: AsNanos, S: Serializer>(
    value: &T,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value.to_nanos() {
        // As exact as a double allows: whole milliseconds and the rest, added once.
        Some(nanos) => {
            let millis = (nanos / 1_000_000) as f64 + (nanos % 1_000_000) as f64 / 1e6;
            serializer.serialize_f64(millis)
        }
        None => Err(ser::Error::custom("the duration cannot be sent")),
    }
}

fn deserialize_millis<'de, T: AsNanos, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<T, D::Error> {
    struct Number;
    impl Visitor<'_> for Number {
        type Value = f64;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a duration in milliseconds")
        }
        fn visit_f64<E: de::Error>(self, value: f64) -> Result<f64, E> {
            Ok(value)
        }
        fn visit_u64<E: de::Error>(self, value: u64) -> Result<f64, E> {
            Ok(value as f64)
        }
        fn visit_i64<E: de::Error>(self, value: i64) -> Result<f64, E> {
            Ok(value as f64)
        }
    }
    let millis = deserializer.deserialize_f64(Number)?;
    // 2^100 ns is far past every duration type; the bound keeps the cast below exact.
    let nanos = (millis * 1e6).round();
    if !nanos.is_finite() || nanos.abs() >= 2f64.powi(100) {
        return Err(de::Error::custom(format_args!(
            "invalid duration: {millis} ms"
        )));
    }
    T::from_nanos(nanos as i128).ok_or_else(|| {
        de::Error::custom(format_args!(
            "the duration {millis} ms is outside what its Rust type can hold"
        ))
    })
}

macro_rules! wire_forms {
    ($form:ident: $serialize:ident, $deserialize:ident => $($ty:ty),+) => {$(
        impl SerializeAs<$ty> for $form {
            fn serialize_as<S: Serializer>(value: &$ty, serializer: S) -> Result<S::Ok, S::Error> {
                $serialize(value, serializer)
            }
        }
        impl<'de> DeserializeAs<'de, $ty> for $form {
            fn deserialize_as<D: Deserializer<'de>>(deserializer: D) -> Result<$ty, D::Error> {
                $deserialize(deserializer)
            }
        }
    )+};
}

#[cfg(any(feature = "chrono", feature = "time", feature = "jiff"))]
fn split(nanos: i128) -> Option<(i64, u32)> {
    let secs = i64::try_from(nanos.div_euclid(NANOS_PER_SEC)).ok()?;
    Some((secs, nanos.rem_euclid(NANOS_PER_SEC) as u32))
}

impl AsNanos for SystemTime {
    fn to_nanos(&self) -> Option<i128> {
        match self.duration_since(UNIX_EPOCH) {
            Ok(after) => i128::try_from(after.as_nanos()).ok(),
            Err(before) => i128::try_from(before.duration().as_nanos())
                .ok()
                .map(|n| -n),
        }
    }
    fn from_nanos(nanos: i128) -> Option<Self> {
        let whole = nanos.unsigned_abs();
        let span = Duration::new(
            u64::try_from(whole / NANOS_PER_SEC as u128).ok()?,
            (whole % NANOS_PER_SEC as u128) as u32,
        );
        if nanos >= 0 {
            UNIX_EPOCH.checked_add(span)
        } else {
            UNIX_EPOCH.checked_sub(span)
        }
    }
}

impl AsNanos for Duration {
    fn to_nanos(&self) -> Option<i128> {
        i128::try_from(self.as_nanos()).ok()
    }
    /// Unsigned, and at most `Duration::MAX`: that common "forever" comes back as itself
    /// (its milliseconds round up past it).
    fn from_nanos(nanos: i128) -> Option<Self> {
        let nanos = u128::try_from(nanos).ok()?;
        Some(match u64::try_from(nanos / NANOS_PER_SEC as u128) {
            Ok(secs) => Duration::new(secs, (nanos % NANOS_PER_SEC as u128) as u32),
            Err(_) => Duration::MAX,
        })
    }
}

wire_forms!(Timestamp: serialize_timestamp, deserialize_timestamp => SystemTime);
wire_forms!(Millis: serialize_millis, deserialize_millis => Duration);

#[cfg(feature = "chrono")]
mod chrono_forms {
    use chrono::{DateTime, FixedOffset, TimeDelta, Utc};

    use super::*;

    impl AsNanos for DateTime<Utc> {
        fn to_nanos(&self) -> Option<i128> {
            Some(
                i128::from(self.timestamp()) * NANOS_PER_SEC
                    + i128::from(self.timestamp_subsec_nanos()),
            )
        }
        fn from_nanos(nanos: i128) -> Option<Self> {
            let (secs, subsec) = split(nanos)?;
            DateTime::from_timestamp(secs, subsec)
        }
    }

    /// Sent in UTC; received with the offset +00:00.
    impl AsNanos for DateTime<FixedOffset> {
        fn to_nanos(&self) -> Option<i128> {
            self.to_utc().to_nanos()
        }
        fn from_nanos(nanos: i128) -> Option<Self> {
            DateTime::<Utc>::from_nanos(nanos).map(|utc| utc.fixed_offset())
        }
    }

    impl AsNanos for TimeDelta {
        fn to_nanos(&self) -> Option<i128> {
            Some(i128::from(self.num_seconds()) * NANOS_PER_SEC + i128::from(self.subsec_nanos()))
        }
        fn from_nanos(nanos: i128) -> Option<Self> {
            let (secs, subsec) = split(nanos)?;
            TimeDelta::new(secs, subsec)
        }
    }

    wire_forms!(Timestamp: serialize_timestamp, deserialize_timestamp => DateTime<Utc>, DateTime<FixedOffset>);
    wire_forms!(Millis: serialize_millis, deserialize_millis => TimeDelta);
}

#[cfg(feature = "time")]
mod time_forms {
    use time::{OffsetDateTime, UtcDateTime};

    use super::*;

    /// Sent in UTC; received with the offset +00:00.
    impl AsNanos for OffsetDateTime {
        fn to_nanos(&self) -> Option<i128> {
            Some(self.unix_timestamp_nanos())
        }
        fn from_nanos(nanos: i128) -> Option<Self> {
            OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()
        }
    }

    impl AsNanos for UtcDateTime {
        fn to_nanos(&self) -> Option<i128> {
            Some(self.unix_timestamp_nanos())
        }
        fn from_nanos(nanos: i128) -> Option<Self> {
            UtcDateTime::from_unix_timestamp_nanos(nanos).ok()
        }
    }

    impl AsNanos for time::Duration {
        fn to_nanos(&self) -> Option<i128> {
            Some(self.whole_nanoseconds())
        }
        fn from_nanos(nanos: i128) -> Option<Self> {
            let (secs, subsec) = split(nanos)?;
            Some(time::Duration::new(secs, subsec as i32))
        }
    }

    wire_forms!(Timestamp: serialize_timestamp, deserialize_timestamp => OffsetDateTime, UtcDateTime);
    wire_forms!(Millis: serialize_millis, deserialize_millis => time::Duration);
}

#[cfg(feature = "jiff")]
mod jiff_forms {
    use jiff::{SignedDuration, Timestamp as JiffTimestamp};

    use super::*;

    impl AsNanos for JiffTimestamp {
        fn to_nanos(&self) -> Option<i128> {
            Some(self.as_nanosecond())
        }
        fn from_nanos(nanos: i128) -> Option<Self> {
            JiffTimestamp::from_nanosecond(nanos).ok()
        }
    }

    impl AsNanos for SignedDuration {
        fn to_nanos(&self) -> Option<i128> {
            Some(self.as_nanos())
        }
        fn from_nanos(nanos: i128) -> Option<Self> {
            let (secs, subsec) = split(nanos)?;
            Some(SignedDuration::new(secs, subsec as i32))
        }
    }

    wire_forms!(Timestamp: serialize_timestamp, deserialize_timestamp => JiffTimestamp);
    wire_forms!(Millis: serialize_millis, deserialize_millis => SignedDuration);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nanos(text: &str) -> i128 {
        parse_rfc3339(text).unwrap()
    }

    #[test]
    fn formats_and_parses_across_the_whole_range() {
        for (text, value) in [
            ("1970-01-01T00:00:00Z", 0),
            ("1969-12-31T23:59:59.999Z", -1_000_000),
            ("1969-07-20T20:17:40.000000001Z", -14_182_939_999_999_999),
            ("2000-02-29T12:00:00.5Z", 951_825_600_500_000_000),
            ("0000-01-01T00:00:00Z", MIN_NANOS),
            ("9999-12-31T23:59:59.999999999Z", MAX_NANOS),
        ] {
            assert_eq!(nanos(text), value, "{text}");
            let back = format_rfc3339(value).unwrap();
            assert_eq!(nanos(&back), value, "{back}");
        }
        assert_eq!(
            format_rfc3339(-1_000_000).unwrap(),
            "1969-12-31T23:59:59.999Z"
        );
        assert_eq!(
            format_rfc3339(1_000).unwrap(),
            "1970-01-01T00:00:00.000001Z"
        );
        assert_eq!(format_rfc3339(MIN_NANOS - 1), None);
        assert_eq!(format_rfc3339(MAX_NANOS + 1), None);
    }

    #[test]
    fn every_day_of_four_centuries_round_trips() {
        for day in days_from_civil(1600, 1, 1)..days_from_civil(2000, 1, 1) {
            let (year, month, date) = civil_from_days(day);
            assert_eq!(days_from_civil(year, month, date), day);
        }
    }

    #[test]
    fn offsets_are_applied_and_bad_text_is_refused_with_a_reason() {
        assert_eq!(nanos("1970-01-01T02:00:00+02:00"), 0);
        assert_eq!(nanos("1970-01-01t00:00:00z"), 0);
        assert_eq!(nanos("1969-12-31T19:00:00-05:00"), 0);
        for (bad, why) in [
            ("", "it ends too early"),
            ("1970-01-01", "it is not laid out as YYYY-MM-DDTHH:MM:SS"),
            ("1970-13-01T00:00:00Z", "no such date"),
            ("2001-02-29T00:00:00Z", "no such date"),
            ("1970-01-01T24:00:00Z", "no such time of day"),
            ("1970-01-01T00:00:60Z", "leap seconds are not represented"),
            ("1970-01-01T00:00:00", "the offset (Z or +HH:MM) is missing"),
            (
                "1970-01-01T00:00:00.Z",
                "the fraction of a second has 1 to 9 digits",
            ),
            (
                "1970-01-01T00:00:00.1234567890Z",
                "the fraction of a second has 1 to 9 digits",
            ),
            ("1970-01-01T00:00:00Z ", "something follows the offset"),
            (
                "0000-01-01T00:00:00+00:01",
                "it is outside years 0000 to 9999 in UTC",
            ),
            ("+1970-01-01T00:00:00Z", "a digit is missing"),
        ] {
            assert_eq!(parse_rfc3339(bad), Err(why), "{bad:?}");
        }
    }

    #[test]
    fn system_times_cover_the_whole_range() {
        for nanos in [MIN_NANOS, -1, 0, 1, MAX_NANOS] {
            let time = SystemTime::from_nanos(nanos).unwrap();
            assert_eq!(time.to_nanos(), Some(nanos));
        }
    }

    #[test]
    fn system_times_before_1970_cross_in_json() {
        let before = UNIX_EPOCH - Duration::from_millis(1500);
        let json = serde_json::to_string(&Wire::<_, Timestamp>::new(before)).unwrap();
        assert_eq!(json, "\"1969-12-31T23:59:58.500Z\"");
        let back: Wire<SystemTime, Timestamp> = serde_json::from_str(&json).unwrap();
        assert_eq!(back.0, before);
        let error = serde_json::from_str::<Wire<SystemTime, Timestamp>>("\"yesterday\"")
            .err()
            .unwrap()
            .to_string();
        assert!(error.contains("invalid timestamp \"yesterday\""), "{error}");
    }

    #[test]
    fn durations_are_milliseconds_exact_to_the_nanosecond_within_24_days() {
        for duration in [
            Duration::ZERO,
            Duration::from_nanos(1),
            Duration::from_micros(1500),
            Duration::new(86_400 * 24, 999_999_999),
        ] {
            let json = serde_json::to_string(&Wire::<_, Millis>::new(duration)).unwrap();
            let back: Wire<Duration, Millis> = serde_json::from_str(&json).unwrap();
            assert_eq!(back.0, duration, "{json}");
        }
        let seventy_years = Duration::new(86_400 * 365 * 70, 123_456_789);
        let json = serde_json::to_string(&Wire::<_, Millis>::new(seventy_years)).unwrap();
        let back: Wire<Duration, Millis> = serde_json::from_str(&json).unwrap();
        assert!(
            back.0.abs_diff(seventy_years) < Duration::from_micros(1),
            "{json}"
        );
        assert_eq!(
            serde_json::to_string(&Wire::<_, Millis>::new(Duration::from_millis(1500))).unwrap(),
            "1500.0"
        );
        let integer: Wire<Duration, Millis> = serde_json::from_str("250").unwrap();
        assert_eq!(integer.0, Duration::from_millis(250));
        let forever = serde_json::to_string(&Wire::<_, Millis>::new(Duration::MAX)).unwrap();
        let back: Wire<Duration, Millis> = serde_json::from_str(&forever).unwrap();
        assert_eq!(back.0, Duration::MAX, "{forever}");
        let negative = serde_json::from_str::<Wire<Duration, Millis>>("-1")
            .err()
            .unwrap();
        assert!(
            negative
                .to_string()
                .contains("outside what its Rust type can hold")
        );
    }
}
