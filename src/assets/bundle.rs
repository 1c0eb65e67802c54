// The build-time bundler: the ES modules reachable from an entry module, joined into one
// script so a page loads one file instead of one per module. Shared by the build script
// (which `include!`s this file, hence plain comments) and the unit tests.
//
// It handles our own code only, so it understands a small, checked subset of module syntax
// and fails the build with the file and line of anything else:
//
// - `import { a, b as c } from './x.js';` (named imports, over several lines if need be),
//   `import * as ns from './x.js';` and `import './x.js';`, with relative specifiers ending
//   in `.js`;
// - `export function f`, `export async function f`, `export class C`, `export const x = …`
//   (one name per `export const`), and `export { a, b as c };`.
//
// `import` and `export` statements start at the beginning of a line. Not supported: default
// imports and exports, `export let`/`export var` (the bundle copies each imported value once,
// so an exported binding must never be reassigned), re-exports (`export … from`), dynamic
// `import()`, `import.meta`, and import cycles. Each imported name must be exported by the
// module it is imported from.
//
// Each module becomes a function scope that returns its exports; its imports become
// `const { a, b: c } = __mN;` of the modules evaluated before it (dependencies first, in the
// order ES modules evaluate).

/// The result of bundling one entry module.
pub struct Bundle {
    /// The script.
    pub code: String,
    /// The modules it holds, in evaluation order (paths relative to `static/`).
    pub modules: Vec<String>,
}

enum ImportNames {
    /// `import { a, b as c }`: (imported, local) pairs.
    Named(Vec<(String, String)>),
    /// `import * as ns`.
    Namespace(String),
    /// `import './x.js'`.
    Bare,
}

struct Import {
    /// The imported module, relative to `static/`.
    from: String,
    names: ImportNames,
}

struct Module {
    body: String,
    imports: Vec<Import>,
    /// (exported name, local name).
    exports: Vec<(String, String)>,
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

/// Whether `line` starts with the keyword `word` (followed by something that is not part of
/// an identifier).
fn starts_with_keyword(line: &str, word: &str) -> bool {
    line.strip_prefix(word)
        .is_some_and(|rest| !rest.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '$'))
}

/// `a` or `a as b` → (a, b); `a` alone → (a, a).
fn name_pair(item: &str) -> Option<(String, String)> {
    let words: Vec<&str> = item.split_whitespace().collect();
    match words.as_slice() {
        [a] if is_identifier(a) => Some((a.to_string(), a.to_string())),
        [a, "as", b] if is_identifier(a) && is_identifier(b) => Some((a.to_string(), b.to_string())),
        _ => None,
    }
}

/// The names between `{` and `}`; the rest after `}`.
fn brace_list(text: &str) -> Option<(Vec<(String, String)>, &str)> {
    let inner = text.strip_prefix('{')?;
    let end = inner.find('}')?;
    let mut pairs = Vec::new();
    for item in inner[..end].split(',') {
        if item.trim().is_empty() {
            continue;
        }
        pairs.push(name_pair(item)?);
    }
    Some((pairs, inner[end + 1..].trim()))
}

/// `'./x.js';` → `./x.js`.
fn quoted_specifier(text: &str) -> Option<&str> {
    let text = text.trim().strip_suffix(';')?.trim_end();
    let quote = text.chars().next().filter(|q| *q == '\'' || *q == '"')?;
    let inner = text.strip_prefix(quote)?.strip_suffix(quote)?;
    (!inner.contains(quote)).then_some(inner)
}

/// Resolves a relative specifier against the importing module's path.
fn resolve(from: &str, specifier: &str) -> Result<String, String> {
    if !(specifier.starts_with("./") || specifier.starts_with("../")) || !specifier.ends_with(".js") {
        return Err(format!("`{specifier}`: only relative specifiers ending in .js are supported"));
    }
    let mut parts: Vec<&str> = from.split('/').collect();
    parts.pop();
    for segment in specifier.split('/') {
        match segment {
            "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(format!("`{specifier}` leads outside static/"));
                }
            }
            "" => return Err(format!("`{specifier}` has an empty path segment")),
            name => parts.push(name),
        }
    }
    Ok(parts.join("/"))
}

/// Gathers a statement starting at line `start` until a line ending in `;`.
fn statement(lines: &[&str], start: usize) -> Option<(String, usize)> {
    let mut text = String::new();
    for (i, line) in lines.iter().enumerate().skip(start).take(60) {
        text.push_str(line.trim());
        text.push(' ');
        if line.trim_end().ends_with(';') {
            return Some((text.trim().to_string(), i));
        }
    }
    None
}

fn parse_import(path: &str, text: &str) -> Result<Import, String> {
    let rest = text["import".len()..].trim_start();
    let (names, tail) = if rest.starts_with('{') {
        let (pairs, tail) = brace_list(rest).ok_or("malformed `import { … }`")?;
        (ImportNames::Named(pairs), tail.strip_prefix("from").ok_or("expected `from` after `import { … }`")?)
    } else if let Some(star) = rest.strip_prefix('*') {
        let words: Vec<&str> = star.split_whitespace().take(3).collect();
        match words.as_slice() {
            ["as", name, "from"] if is_identifier(name) => {
                let from_at = star.find(" from").ok_or("expected `from`")?;
                (ImportNames::Namespace(name.to_string()), &star[from_at + 5..])
            }
            _ => return Err("malformed `import * as name from …`".into()),
        }
    } else if rest.starts_with('\'') || rest.starts_with('"') {
        (ImportNames::Bare, rest)
    } else {
        return Err("only `import { … } from`, `import * as … from` and `import '…'` are supported".into());
    };
    let specifier = quoted_specifier(tail).ok_or("expected a quoted module path and `;`")?;
    Ok(Import { from: resolve(path, specifier)?, names })
}

/// An `export` declaration line: the line without `export`, and the name it exports.
fn parse_export_declaration(line: &str) -> Result<(String, String), String> {
    let declaration = line["export".len()..].trim_start();
    let words: Vec<&str> =
        declaration.splitn(4, |c: char| c.is_whitespace() || c == '(' || c == '=' || c == '{').collect();
    let name = match words.as_slice() {
        ["function", name, ..] | ["class", name, ..] | ["const", name, ..] => name,
        ["async", "function", name, ..] => name,
        ["default", ..] => return Err("default exports are not supported".into()),
        ["let", ..] | ["var", ..] => {
            return Err("`export let`/`export var` are not supported (exported bindings must be const)".into());
        }
        _ => return Err("unsupported `export` form".into()),
    };
    let name = name.trim_end_matches(';');
    if !is_identifier(name) {
        return Err(format!("unsupported export of `{name}` (one plain name per `export const`)"));
    }
    // (`export const a = 1, b = 2;` exports `a` only; importing `b` then fails the build.)
    Ok((declaration.to_string(), name.to_string()))
}

fn parse_module(path: &str, source: &str) -> Result<Module, String> {
    let lines: Vec<&str> = source.lines().collect();
    let mut module = Module { body: String::new(), imports: Vec::new(), exports: Vec::new() };
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let at = |e: String| format!("static/{path}:{}: {e}", i + 1);
        let trimmed = line.trim_start();
        let code = trimmed.split("//").next().unwrap_or("");
        if code.contains("import(") || code.contains("import.meta") {
            return Err(at("dynamic `import()` and `import.meta` are not supported".into()));
        }
        let keyword = ["import", "export"].into_iter().find(|k| starts_with_keyword(trimmed, k));
        let Some(keyword) = keyword else {
            module.body.push_str(line);
            module.body.push('\n');
            i += 1;
            continue;
        };
        if trimmed.len() != line.len() {
            return Err(at(format!("`{keyword}` must start at the beginning of a line")));
        }
        if keyword == "import" || trimmed["export".len()..].trim_start().starts_with('{') {
            let (text, last) = statement(&lines, i).ok_or_else(|| at(format!("`{keyword}` without a closing `;`")))?;
            if keyword == "import" {
                module.imports.push(parse_import(path, &text).map_err(at)?);
            } else {
                let (pairs, tail) = brace_list(text["export".len()..].trim_start())
                    .ok_or_else(|| at("malformed `export { … }`".into()))?;
                if tail != ";" {
                    return Err(at("re-exports (`export … from`) are not supported".into()));
                }
                module.exports.extend(pairs.into_iter().map(|(local, exported)| (exported, local)));
            }
            // Keep the line count, so a browser's line numbers still point near the source.
            for _ in i..=last {
                module.body.push('\n');
            }
            i = last + 1;
        } else {
            let (declaration, name) = parse_export_declaration(trimmed).map_err(at)?;
            module.body.push_str(&declaration);
            module.body.push('\n');
            module.exports.push((name.clone(), name));
            i += 1;
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    for (exported, _) in &module.exports {
        if !seen.insert(exported.as_str()) {
            return Err(format!("static/{path}: `{exported}` is exported twice"));
        }
    }
    Ok(module)
}

/// Bundles `entry` (a path relative to `static/`) and every module it reaches; `read` gives a
/// module's source by the same kind of path.
pub fn bundle(entry: &str, read: &mut dyn FnMut(&str) -> Option<String>) -> Result<Bundle, String> {
    let mut modules: Vec<(String, Module)> = Vec::new();
    let mut stack: Vec<String> = Vec::new();
    visit(entry, read, &mut modules, &mut stack)?;
    let index_of = |path: &str| modules.iter().position(|(p, _)| p == path);
    let mut code = format!(
        "// {entry} and the modules it imports, bundled by src/build.rs (see src/assets/bundle.rs).\n\
         'use strict';\n(() => {{\n"
    );
    for (n, (path, module)) in modules.iter().enumerate() {
        code.push_str(&format!("const __m{n} = (() => {{ // {path}\n"));
        for import in &module.imports {
            let Some(target) = index_of(&import.from) else { continue };
            let exports = &modules[target].1.exports;
            match &import.names {
                ImportNames::Named(pairs) => {
                    for (imported, _) in pairs {
                        if !exports.iter().any(|(e, _)| e == imported) {
                            return Err(format!(
                                "static/{path} imports `{imported}` from static/{}, which does not export it",
                                import.from
                            ));
                        }
                    }
                    let list: Vec<String> = pairs
                        .iter()
                        .map(
                            |(imported, local)| {
                                if imported == local { imported.clone() } else { format!("{imported}: {local}") }
                            },
                        )
                        .collect();
                    if !list.is_empty() {
                        code.push_str(&format!("const {{ {} }} = __m{target};\n", list.join(", ")));
                    }
                }
                ImportNames::Namespace(name) => code.push_str(&format!("const {name} = __m{target};\n")),
                ImportNames::Bare => {}
            }
        }
        code.push_str(&module.body);
        let fields: Vec<String> = module
            .exports
            .iter()
            .map(|(exported, local)| if exported == local { local.clone() } else { format!("{exported}: {local}") })
            .collect();
        code.push_str(&format!("return Object.freeze({{ {} }});\n}})();\n", fields.join(", ")));
    }
    code.push_str("})();\n");
    Ok(Bundle { code, modules: modules.into_iter().map(|(p, _)| p).collect() })
}

/// Depth-first, dependencies before dependents (the order ES modules evaluate in).
fn visit(
    path: &str,
    read: &mut dyn FnMut(&str) -> Option<String>,
    done: &mut Vec<(String, Module)>,
    stack: &mut Vec<String>,
) -> Result<(), String> {
    if done.iter().any(|(p, _)| p == path) {
        return Ok(());
    }
    if let Some(start) = stack.iter().position(|p| p == path) {
        let cycle: Vec<&str> = stack[start..].iter().map(String::as_str).chain([path]).collect();
        return Err(format!("import cycle: {}", cycle.join(" → ")));
    }
    let importer = stack.last().cloned();
    let source = read(path).ok_or_else(|| match &importer {
        Some(from) => format!("static/{from} imports static/{path}, which does not exist"),
        None => format!("static/{path} does not exist"),
    })?;
    let module = parse_module(path, &source)?;
    stack.push(path.to_string());
    for import in &module.imports {
        visit(&import.from, read, done, stack)?;
    }
    stack.pop();
    done.push((path.to_string(), module));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn run(files: &[(&str, &str)], entry: &str) -> Result<Bundle, String> {
        let map: HashMap<String, String> = files.iter().map(|(p, s)| (p.to_string(), s.to_string())).collect();
        bundle(entry, &mut |p| map.get(p).cloned())
    }

    #[test]
    fn joins_modules_dependencies_first() {
        let bundle = run(
            &[
                ("js/main.js", "import { a, b as bee } from './lib/x.js';\nimport * as y from './y.js';\nimport './side.js';\nconsole.log(a, bee, y.c);\n"),
                ("js/lib/x.js", "import {\n  c,\n} from '../y.js';\nexport const a = c + 1;\nconst hidden = 2;\nexport { hidden as b };\n"),
                ("js/y.js", "export function c() { return 1; }\nexport async function d() {}\nexport class E {}\n"),
                ("js/side.js", "window.side = true;\n"),
            ],
            "js/main.js",
        )
        .unwrap();
        assert_eq!(bundle.modules, ["js/y.js", "js/lib/x.js", "js/side.js", "js/main.js"]);
        let code = &bundle.code;
        assert!(code.contains("const { c } = __m0;"), "{code}");
        assert!(code.contains("const { a, b: bee } = __m1;"), "{code}");
        assert!(code.contains("const y = __m0;"), "{code}");
        assert!(code.contains("return Object.freeze({ c, d, E });"), "{code}");
        assert!(code.contains("return Object.freeze({ a, b: hidden });"), "{code}");
        assert!(code.contains("function c()") && !code.contains("export"), "{code}");
        assert!(!code.contains("import {") && !code.contains("from '"), "{code}");
    }

    #[test]
    fn refuses_what_it_does_not_support_with_the_place() {
        let cases: &[(&str, &str)] = &[
            ("import x from './y.js';\n", "static/js/a.js:1: only `import { … } from`"),
            ("export default 1;\n", "static/js/a.js:1: default exports"),
            ("export let x = 1;\n", "exported bindings must be const"),
            ("export { x } from './y.js';\n", "re-exports"),
            ("const m = import('./y.js');\n", "dynamic `import()`"),
            ("if (x) {\n  import('./y.js');\n}\n", "static/js/a.js:2: dynamic"),
            ("  export function f() {}\n", "must start at the beginning of a line"),
            ("import { y } from 'lib';\n", "only relative specifiers"),
            ("import { y } from './y.js'\nfoo();\n", "expected a quoted module path and `;`"),
            ("import { nope } from './y.js';\n", "imports `nope` from static/js/y.js, which does not export it"),
            (
                "import { y } from './missing.js';\n",
                "static/js/a.js imports static/js/missing.js, which does not exist",
            ),
            ("export const { a, b } = c;\n", "one plain name per `export const`"),
        ];
        for (source, expected) in cases {
            let error = run(&[("js/a.js", source), ("js/y.js", "export const y = 1;\n")], "js/a.js")
                .err()
                .unwrap_or_else(|| panic!("{source:?} was accepted"));
            assert!(error.contains(expected), "{source:?}: {error}");
        }
    }

    #[test]
    fn refuses_cycles() {
        let error = run(
            &[
                ("js/a.js", "import { b } from './b.js';\nexport const a = 1;\n"),
                ("js/b.js", "import { a } from './a.js';\nexport const b = 2;\n"),
            ],
            "js/a.js",
        )
        .err()
        .unwrap();
        assert_eq!(error, "import cycle: js/a.js → js/b.js → js/a.js");
    }

    #[test]
    fn the_web_app_bundles() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("static");
        for entry in ["js/main.js", "js/chat-page.js"] {
            let bundle = bundle(entry, &mut |p| std::fs::read_to_string(root.join(p)).ok()).unwrap();
            assert!(bundle.modules.len() > 5, "{:?}", bundle.modules);
            assert_eq!(bundle.modules.last().map(String::as_str), Some(entry));
        }
    }
}
