//! Macros shared by the model: string-valued enums that parse and print exactly like the CLI
//! takes them, so every surface reports the same message for a bad value.

macro_rules! string_enum {
    ($(#[doc = $doc:literal])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        string_enum!($(#[doc = $doc])* $name as (stringify!($name)) { $($variant => $text),+ });
    };
    ($(#[doc = $doc:literal])* $name:ident as ($label:expr) { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, ::serde::Serialize)]
        pub enum $name {
            $(#[serde(rename = $text)] $variant),+
        }

        // Parsed like the CLI parses it, so every surface reports the same message.
        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <String as ::serde::Deserialize>::deserialize(d)?;
                text.parse().map_err(|e: $crate::error::Error| ::serde::de::Error::custom(e.detail()))
            }
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl ::schemars::JsonSchema for $name {
            fn schema_name() -> ::std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut ::schemars::SchemaGenerator) -> ::schemars::Schema {
                let mut schema = ::schemars::json_schema!({ "type": "string", "enum": [$($text),+] });
                let doc: &str = concat!($($doc),*);
                if !doc.trim().is_empty() {
                    schema.insert("description".into(), doc.trim().into());
                }
                schema
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::error::Error;
            fn from_str(s: &str) -> ::std::result::Result<Self, $crate::error::Error> {
                let lower = s.trim().to_ascii_lowercase();
                $(if lower == $text { return Ok($name::$variant); })+
                let allowed: Vec<&str> = vec![$($text),+];
                Err($crate::error::Error::invalid(format!(
                    "unknown {} '{}' (expected one of: {})",
                    $label.to_ascii_lowercase(), s, allowed.join(", ")
                )))
            }
        }
    };
}
