//! What one file says about modules and imports: the `mod` items it declares (with a file or
//! inline), the names its `use` items bind, and every path it writes that could name an item of
//! its own crate (`crate::…`, `super::…`, `self::…`, or a name in scope followed by `::`).
//!
//! Parsing is by tokens, not a full grammar: enough for rustfmt-formatted code. Modules under
//! `#[cfg(test)]` are marked so the graph can leave test code out.

use super::lexer::{Token, tokens};

/// The contents of one module body: a whole file, or the braces of an inline `mod`.
#[derive(Debug, Default)]
pub(super) struct Body {
    /// `mod name;` and `mod name { … }` items, in order.
    pub(super) children: Vec<ChildMod>,
    /// Names bound by `use` items: the name in scope and the path it stands for.
    pub(super) bindings: Vec<(String, Vec<String>)>,
    /// Paths of `use … ::*` items.
    pub(super) globs: Vec<Vec<String>>,
    /// Every path written, `use` paths included.
    pub(super) paths: Vec<Vec<String>>,
    /// `#[macro_export]` macros defined here: they are named as items of the crate root.
    pub(super) exported_macros: Vec<String>,
}

/// A `mod` item.
#[derive(Debug)]
pub(super) struct ChildMod {
    pub(super) name: String,
    /// Under `#[cfg(test)]`.
    pub(super) test: bool,
    /// The body of an inline module; `None` for `mod name;`, whose body is a file.
    pub(super) inline: Option<Body>,
}

/// Parses a file's source.
pub(super) fn parse(source: &str) -> Body {
    let toks = tokens(source);
    let mut i = 0;
    parse_body(&toks, &mut i)
}

fn ident(toks: &[Token], i: usize) -> Option<&str> {
    match toks.get(i) {
        Some(Token::Ident(s)) => Some(s),
        _ => None,
    }
}

/// Parses items up to the `}` closing this body (or the end of the tokens).
fn parse_body(toks: &[Token], i: &mut usize) -> Body {
    let mut body = Body::default();
    let mut depth = 0usize;
    let mut test_attr = false;
    let mut macro_export = false;
    while *i < toks.len() {
        match &toks[*i] {
            Token::Punct('#') => {
                let (end, is_test) = attribute(toks, *i);
                test_attr |= is_test;
                macro_export |= ident(toks, *i + 2) == Some("macro_export");
                *i = end;
                continue;
            }
            Token::Ident(word) if word == "macro_rules" => {
                if let (true, Some(name)) = (macro_export, ident(toks, *i + 2)) {
                    body.exported_macros.push(name.to_string());
                }
                macro_export = false;
            }
            Token::Punct('{') => depth += 1,
            Token::Punct('}') => {
                if depth == 0 {
                    *i += 1;
                    return body;
                }
                depth -= 1;
            }
            Token::Punct(';') => {
                test_attr = false;
                macro_export = false;
            }
            Token::Ident(word) if word == "mod" => {
                if let (Some(name), Some(next)) = (ident(toks, *i + 1), toks.get(*i + 2)) {
                    let name = name.to_string();
                    let inline = match next {
                        Token::Punct('{') => {
                            *i += 3;
                            Some(parse_body(toks, i))
                        }
                        _ => {
                            *i += 3;
                            None
                        }
                    };
                    body.children.push(ChildMod {
                        name,
                        test: test_attr,
                        inline,
                    });
                    test_attr = false;
                    continue;
                }
            }
            Token::Ident(word) if word == "use" && is_item_start(toks, *i) => {
                *i += 1;
                let mut prefix = Vec::new();
                use_tree(toks, i, &mut prefix, &mut body);
                test_attr = false;
                continue;
            }
            Token::Ident(_) => {
                if let Some((path, end)) = path_at(toks, *i) {
                    body.paths.push(path);
                    *i = end;
                    continue;
                }
            }
            _ => {}
        }
        *i += 1;
    }
    body
}

/// `use` as an item keyword, not a field or method named `use` (impossible) or the tail of
/// `pub(in …)`: the token before is a boundary or a visibility.
fn is_item_start(toks: &[Token], i: usize) -> bool {
    i == 0
        || matches!(toks[i - 1], Token::Punct(';' | '{' | '}' | ']' | ')'))
        || ident(toks, i - 1) == Some("pub")
}

/// The end of the attribute starting at the `#` at `i`, and whether it is `cfg(test)`.
fn attribute(toks: &[Token], i: usize) -> (usize, bool) {
    let mut j = i + 1;
    if toks.get(j) == Some(&Token::Punct('!')) {
        j += 1;
    }
    if toks.get(j) != Some(&Token::Punct('[')) {
        return (i + 1, false);
    }
    let start = j;
    let mut depth = 0;
    while j < toks.len() {
        match toks[j] {
            Token::Punct('[') => depth += 1,
            Token::Punct(']') => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            _ => {}
        }
        j += 1;
    }
    let words: Vec<&str> = (start..j).filter_map(|k| ident(toks, k)).collect();
    let is_test =
        words.first() == Some(&"cfg") && words.contains(&"test") && !words.contains(&"not");
    (j + 1, is_test)
}

/// A path starting at `i` (`a::b::c`, at least one `::`), unless it is the tail of a longer
/// path, a `$crate` path or a `pub(in …)` visibility. Returns the path and the index past it.
fn path_at(toks: &[Token], i: usize) -> Option<(Vec<String>, usize)> {
    if i > 0 {
        match &toks[i - 1] {
            Token::PathSep | Token::Punct('$') => return None,
            Token::Ident(w) if w == "in" => return None,
            _ => {}
        }
    }
    let mut path = vec![ident(toks, i)?.to_string()];
    let mut j = i + 1;
    while toks.get(j) == Some(&Token::PathSep) {
        match ident(toks, j + 1) {
            Some(seg) => {
                path.push(seg.to_string());
                j += 2;
            }
            None => break,
        }
    }
    (path.len() > 1).then_some((path, j))
}

/// Parses a use tree after `prefix`, up to and including the `;` or the `,`/`}` that ends it.
fn use_tree(toks: &[Token], i: &mut usize, prefix: &mut Vec<String>, body: &mut Body) {
    let depth_in = prefix.len();
    loop {
        match toks.get(*i) {
            Some(Token::PathSep) => *i += 1,
            Some(Token::Ident(seg)) if seg != "as" => {
                prefix.push(seg.clone());
                *i += 1;
            }
            Some(Token::Ident(_)) => {
                // `as alias`
                let alias = ident(toks, *i + 1).unwrap_or("_").to_string();
                *i += 2;
                bind(prefix, Some(alias), body);
                break;
            }
            Some(Token::Punct('*')) => {
                *i += 1;
                body.globs.push(prefix.clone());
                body.paths.push(prefix.clone());
                break;
            }
            Some(Token::Punct('{')) => {
                *i += 1;
                loop {
                    match toks.get(*i) {
                        Some(Token::Punct('}')) => {
                            *i += 1;
                            break;
                        }
                        Some(Token::Punct(',')) => *i += 1,
                        None => break,
                        _ => use_tree(toks, i, prefix, body),
                    }
                }
                break;
            }
            _ => {
                bind(prefix, None, body);
                break;
            }
        }
    }
    prefix.truncate(depth_in);
    if toks.get(*i) == Some(&Token::Punct(';')) && depth_in == 0 {
        *i += 1;
    }
}

/// Records the binding of a complete use path (`a::b` binds `b`; `a::{self}` binds `a`).
fn bind(path: &[String], alias: Option<String>, body: &mut Body) {
    let mut path = path.to_vec();
    if path.last().is_some_and(|s| s == "self") {
        path.pop();
    }
    let Some(last) = path.last() else { return };
    let name = alias.unwrap_or_else(|| last.clone());
    body.paths.push(path.clone());
    if name != "_" {
        body.bindings.push((name, path));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(paths: &[Vec<String>]) -> Vec<String> {
        paths.iter().map(|p| p.join("::")).collect()
    }

    #[test]
    fn use_trees_bind_names_and_record_paths() {
        let body = parse(
            "pub(crate) use crate::a::{b::C, d as E, f::{self, g::*}};\n\
             use super::h;\n\
             fn x() { let y = crate::i::J::new(); h::k(); }",
        );
        assert_eq!(
            strings(&body.paths),
            [
                "crate::a::b::C",
                "crate::a::d",
                "crate::a::f",
                "crate::a::f::g",
                "super::h",
                "crate::i::J::new",
                "h::k"
            ]
        );
        let names: Vec<&str> = body.bindings.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["C", "E", "f", "h"]);
        assert_eq!(strings(&body.globs), ["crate::a::f::g"]);
    }

    #[test]
    fn modules_inline_and_test_only() {
        let body = parse(
            "mod a;\npub mod b { use super::a::X; }\n#[cfg(test)]\nmod tests { use super::*; }\n\
             macro_rules! m { () => { $crate::a::X } }\npub(in crate::b) fn f() {}",
        );
        let mods: Vec<(&str, bool, bool)> = body
            .children
            .iter()
            .map(|c| (c.name.as_str(), c.test, c.inline.is_some()))
            .collect();
        assert_eq!(
            mods,
            [
                ("a", false, false),
                ("b", false, true),
                ("tests", true, true)
            ]
        );
        assert_eq!(
            strings(&body.children[1].inline.as_ref().unwrap().paths),
            ["super::a::X"]
        );
        assert!(body.paths.is_empty(), "{:?}", body.paths);
    }
}
