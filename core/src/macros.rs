//! Macros shared by the model: string-valued enums that parse and print exactly like the CLI
//! takes them, so every surface reports the same message for a bad value.

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        string_enum!($(#[$meta])* $name as (stringify!($name)) { $($variant => $text),+ });
    };
    ($(#[$meta:meta])* $name:ident as ($label:expr) { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
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
