//! Validation failures keyed by the form field they belong to, so a form can
//! show each message right under its field, tie it there with
//! `aria-describedby`, and still list every problem at the top.

use std::collections::BTreeMap;

/// The fields of one form.
pub trait Field: Copy + Eq + 'static {
    /// Every field, in the order the form shows them.
    const ALL: &'static [Self];

    /// The input's `id` (and `name`) in the form; its message is `{id}-error`.
    fn id(self) -> &'static str;
}

/// Each failure with its field, in the order they were found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldErrors<F>(Vec<(F, String)>);

impl<F: Field> Default for FieldErrors<F> {
    fn default() -> Self {
        FieldErrors(Vec::new())
    }
}

impl<F: Field> FieldErrors<F> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn single(field: F, message: impl Into<String>) -> Self {
        let mut errors = Self::new();
        errors.push(field, message);
        errors
    }

    pub fn push(&mut self, field: F, message: impl Into<String>) {
        self.0.push((field, message.into()));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The messages about `field`.
    pub fn of(&self, field: F) -> impl Iterator<Item = &str> {
        self.0
            .iter()
            .filter(move |(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }

    /// Every message, for the summary at the top of the form.
    pub fn messages(&self) -> Vec<&str> {
        self.0.iter().map(|(_, m)| m.as_str()).collect()
    }

    /// What a template reads: every field's id with its messages joined
    /// (empty when it has none), so the template never meets a missing key.
    pub fn by_field(&self) -> BTreeMap<&'static str, String> {
        F::ALL
            .iter()
            .map(|&f| (f.id(), self.of(f).collect::<Vec<_>>().join(" ")))
            .collect()
    }

    /// `Ok(value)` when nothing failed.
    pub fn into_result<T>(self, value: impl FnOnce() -> T) -> Result<T, Self> {
        if self.is_empty() {
            Ok(value())
        } else {
            Err(self)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Demo {
        Name,
        Email,
    }

    impl Field for Demo {
        const ALL: &'static [Self] = &[Demo::Name, Demo::Email];

        fn id(self) -> &'static str {
            match self {
                Demo::Name => "name",
                Demo::Email => "email",
            }
        }
    }

    #[test]
    fn messages_are_kept_in_order_and_grouped_by_field() {
        let mut errors = FieldErrors::new();
        errors.push(Demo::Email, "One.");
        errors.push(Demo::Name, "Two.");
        errors.push(Demo::Email, "Three.");
        assert_eq!(errors.len(), 3);
        assert_eq!(errors.messages(), ["One.", "Two.", "Three."]);
        let by_field = errors.by_field();
        assert_eq!(by_field["email"], "One. Three.");
        assert_eq!(by_field["name"], "Two.");
    }

    #[test]
    fn every_field_is_in_the_template_map() {
        let errors = FieldErrors::single(Demo::Name, "Required.");
        assert_eq!(errors.by_field()["email"], "");
        assert_eq!(FieldErrors::<Demo>::new().into_result(|| 1), Ok(1));
        assert!(errors.into_result(|| 1).is_err());
    }
}
