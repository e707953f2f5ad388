//! A check that the crate's top-level modules import each other without a cycle, so each can be read
//! (and one day moved to a crate of its own) knowing only the modules below it.

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::Path;

    /// The top-level modules each module's product code (its text before any `#[cfg(test)]`, without
    /// comment lines) names through `crate::`.
    fn imports() -> BTreeMap<String, BTreeSet<String>> {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        let mut dirs = vec![src.clone()];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).expect("src is readable") {
                let path = entry.expect("a directory entry").path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    files.push(path);
                }
            }
        }
        let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for file in files {
            let relative = file.strip_prefix(&src).expect("below src");
            let top = relative
                .components()
                .next()
                .and_then(|c| c.as_os_str().to_str())
                .map(|c| c.trim_end_matches(".rs").to_owned())
                .expect("a file name");
            if top == "lib" || top == "main" {
                continue;
            }
            let text = std::fs::read_to_string(&file).expect("a readable source file");
            let product = text.split("#[cfg(test)]").next().unwrap_or_default();
            let names = graph.entry(top.clone()).or_default();
            for line in product
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
            {
                for (at, _) in line.match_indices("crate::") {
                    let rest = &line[at + "crate::".len()..];
                    let listed: Vec<&str> = match rest.strip_prefix('{') {
                        Some(group) => group
                            .split('}')
                            .next()
                            .unwrap_or_default()
                            .split(',')
                            .collect(),
                        None => vec![rest],
                    };
                    for item in listed {
                        let name: String = item
                            .trim()
                            .chars()
                            .take_while(|c| c.is_alphanumeric() || *c == '_')
                            .collect();
                        if !name.is_empty() && name != top {
                            names.insert(name);
                        }
                    }
                }
            }
        }
        let modules: BTreeSet<String> = graph.keys().cloned().collect();
        for names in graph.values_mut() {
            names.retain(|n| modules.contains(n));
        }
        graph
    }

    /// A cycle through `at`, as the path that closes it, if the graph has one.
    fn cycle(
        graph: &BTreeMap<String, BTreeSet<String>>,
        at: &str,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|m| m == at) {
            let mut found = path[i..].to_vec();
            found.push(at.to_owned());
            return Some(found);
        }
        if done.contains(at) {
            return None;
        }
        path.push(at.to_owned());
        for next in graph.get(at).into_iter().flatten() {
            if let Some(found) = cycle(graph, next, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(at.to_owned());
        None
    }

    #[test]
    fn the_top_level_modules_import_each_other_without_a_cycle() {
        let graph = imports();
        assert!(graph.contains_key("stack") && graph["stack"].contains("streams"));
        let mut done = BTreeSet::new();
        for module in graph.keys() {
            if let Some(found) = cycle(&graph, module, &mut Vec::new(), &mut done) {
                panic!("an import cycle: {}", found.join(" → "));
            }
        }
    }
}
