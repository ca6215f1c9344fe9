//! What a person would notice, measured in the page with a little
//! JavaScript: horizontal scrolling, unlabelled controls, invisible focus,
//! error messages far from (and not tied to) their field.

use fantoccini::Client;
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use serde::Deserialize;
use serde_json::{Value, json};

async fn run(client: &Client, script: &str, args: Vec<Value>) -> Value {
    client
        .execute(script, args)
        .await
        .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
}

/// `None` when the page fits the window; otherwise what sticks out.
pub async fn horizontal_overflow(client: &Client) -> Option<String> {
    let found = run(
        client,
        r#"
        const width = window.innerWidth;
        const page = document.documentElement.scrollWidth;
        if (page <= width) return null;
        const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
            + [...el.classList].map(c => '.' + c).join('');
        // An element sticks out unless a scrolling or clipping box holds it.
        const held = el => {
            for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
                if (getComputedStyle(p).overflowX !== 'visible')
                    return p.getBoundingClientRect().right <= width + 0.5;
            }
            return false;
        };
        const out = [...document.body.querySelectorAll('*')]
            .filter(el => el.getBoundingClientRect().right > width + 0.5 && !held(el))
            .slice(0, 6)
            .map(el => name(el) + ' ends at ' + Math.round(el.getBoundingClientRect().right) + 'px');
        return `the page is ${page}px wide in a ${width}px window: ${out.join('; ')}`;
        "#,
        vec![],
    )
    .await;
    found.as_str().map(str::to_string)
}

/// Every visible input (but hidden and buttons), textarea and select that no
/// label names: `label[for]`, a wrapping label, `aria-label` or `aria-labelledby`.
pub async fn unlabelled_controls(client: &Client) -> Vec<String> {
    let found = run(
        client,
        r#"
        const text = el => (el && el.textContent || '').trim();
        const named = el => {
            if (el.id && [...document.querySelectorAll('label')]
                    .some(l => l.htmlFor === el.id && text(l))) return true;
            if (text(el.closest('label'))) return true;
            if ((el.getAttribute('aria-label') || '').trim()) return true;
            return (el.getAttribute('aria-labelledby') || '').split(/\s+/)
                .some(id => id && text(document.getElementById(id)));
        };
        return [...document.querySelectorAll('input, textarea, select')]
            .filter(el => !(el.tagName === 'INPUT'
                && ['hidden', 'submit', 'button', 'reset', 'image'].includes(el.type)))
            .filter(el => el.getClientRects().length > 0
                && getComputedStyle(el).visibility !== 'hidden')
            .filter(el => !named(el))
            .map(el => el.outerHTML.slice(0, 120));
        "#,
        vec![],
    )
    .await;
    serde_json::from_value(found).unwrap()
}

/// Presses a key as a person would (a real key event, so `:focus-visible`
/// applies as it does for keyboard users).
pub async fn press(client: &Client, key: Key) {
    let key: char = key.into();
    let keys = KeyActions::new("keyboard".to_string())
        .then(KeyAction::Down { value: key })
        .then(KeyAction::Up { value: key });
    client.perform_actions(keys).await.unwrap();
}

/// The focused element and whether a person can see that it is focused.
#[derive(Debug, Deserialize)]
pub struct Focused {
    pub tag: String,
    pub text: String,
    pub href: Option<String>,
    /// A non-zero outline or a box-shadow.
    pub ring: bool,
    pub in_view: bool,
    pub style: String,
}

pub async fn focused(client: &Client) -> Focused {
    let found = run(
        client,
        r#"
        const el = document.activeElement;
        const s = getComputedStyle(el);
        const r = el.getBoundingClientRect();
        const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0;
        const shadow = !!s.boxShadow && s.boxShadow !== 'none';
        return {
            tag: el.tagName.toLowerCase(),
            text: el.textContent.trim().replace(/\s+/g, ' ').slice(0, 60),
            href: el.getAttribute('href'),
            ring: outline || shadow,
            in_view: r.width > 1 && r.height > 1 && r.bottom > 0 && r.top < innerHeight
                && r.right > 0 && r.left < innerWidth,
            style: `outline: ${s.outlineStyle} ${s.outlineWidth} ${s.outlineColor}; box-shadow: ${s.boxShadow}`,
        };
        "#,
        vec![],
    )
    .await;
    serde_json::from_value(found).unwrap()
}

/// Problems with how the error saying `needle` relates to field `#id`: it
/// must be one of the field's `aria-describedby` elements and be shown
/// next to it (within 120 px above or below).
pub async fn error_tied_to_field(client: &Client, id: &str, needle: &str) -> Vec<String> {
    let found = run(
        client,
        r#"
        const [id, needle] = arguments;
        const field = document.getElementById(id);
        if (!field) return [`there is no #${id}`];
        const says = el => el.textContent.toLowerCase().includes(needle);
        const ids = (field.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean);
        const tied = ids.map(i => document.getElementById(i)).find(el => el && says(el));
        const shown = [...document.body.querySelectorAll('*')]
            .filter(el => el.children.length === 0 && says(el) && el.getClientRects().length);
        const problems = [];
        if (!tied) problems.push(`#${id} has aria-describedby="${ids.join(' ')}": `
            + `no element it names says "${needle}"`);
        const message = tied || shown[0];
        if (!message) {
            problems.push(`no visible element says "${needle}"`);
        } else {
            const a = field.getBoundingClientRect(), b = message.getBoundingClientRect();
            const gap = Math.max(b.top - a.bottom, a.top - b.bottom, 0);
            if (gap > 120) problems.push(
                `the message "${message.textContent.trim()}" is ${Math.round(gap)}px from #${id}`);
        }
        return problems;
        "#,
        vec![json!(id), json!(needle)],
    )
    .await;
    serde_json::from_value(found).unwrap()
}
