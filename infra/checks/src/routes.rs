//! The routes of the local ingress (`infra/local/nginx.conf.template`) and of the Kubernetes
//! Ingress, in one form so they can be compared: a path prefix and the component behind it
//! (`auth`, `tickets`, … `client`: the nginx upstream, or the Service name without `-srv`).

use k8s_openapi::api::networking::v1::Ingress;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Route {
    pub path: String,
    pub component: String,
}

impl std::fmt::Display for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} -> {}", self.path, self.component)
    }
}

/// The `# route: /api/users -> auth` comment lines of the nginx template, in order.
pub fn nginx_comment_routes(text: &str) -> Result<Vec<Route>, String> {
    let mut routes = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let Some(rest) = line.trim().strip_prefix('#').map(str::trim) else {
            continue;
        };
        let Some(route) = rest.strip_prefix("route:") else {
            continue;
        };
        let (path, component) = route.split_once("->").ok_or_else(|| {
            format!(
                "line {}: `{line}` is not `# route: PATH -> COMPONENT`",
                number + 1
            )
        })?;
        routes.push(Route {
            path: path.trim().to_string(),
            component: component.trim().to_string(),
        });
    }
    Ok(routes)
}

/// The `location PATH { … proxy_pass http://UPSTREAM; … }` blocks of an nginx configuration.
/// Only plain prefix locations (no modifier, or `^~`) are accepted: they are what an Ingress
/// `Prefix` path means; a regex or exact location, a location without `proxy_pass`, or a
/// `proxy_pass` with a URI part (which rewrites the path, as the Ingress does not) is an error.
/// Named and `internal` locations are not routes and are skipped.
pub fn nginx_location_routes(text: &str) -> Result<Vec<Route>, String> {
    let tokens = tokenize(text);
    let mut routes = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if tokens[i] != "location" {
            i += 1;
            continue;
        }
        let open = tokens[i..]
            .iter()
            .position(|t| t == "{")
            .map(|p| i + p)
            .ok_or("a `location` without a block")?;
        let args = &tokens[i + 1..open];
        // A named location (`@name`) or one marked `internal` is no route: no client reaches it
        // (the local ingress's error page is one). Skip its block.
        let named = args.last().is_some_and(|arg| arg.starts_with('@'));
        if named || block_is_internal(&tokens, open) {
            i = block_end(&tokens, open).ok_or("a `location` block not closed")? + 1;
            continue;
        }
        let path = match args {
            [path] => path.clone(),
            [modifier, path] if modifier == "^~" => path.clone(),
            _ => {
                return Err(format!(
                    "`location {}`: only prefix locations are comparable with the Ingress",
                    args.join(" ")
                ));
            }
        };
        let mut depth = 0;
        let mut close = None;
        for (j, token) in tokens.iter().enumerate().skip(open) {
            match token.as_str() {
                "{" => depth += 1,
                "}" => {
                    depth -= 1;
                    if depth == 0 {
                        close = Some(j);
                        break;
                    }
                }
                _ => {}
            }
        }
        let close = close.ok_or_else(|| format!("`location {path}`: block not closed"))?;
        let body = &tokens[open + 1..close];
        if body.iter().any(|t| t == "location") {
            return Err(format!(
                "`location {path}`: nested locations are not supported"
            ));
        }
        let target = body
            .iter()
            .position(|t| t == "proxy_pass")
            .and_then(|p| body.get(p + 1))
            .ok_or_else(|| format!("`location {path}` has no proxy_pass"))?;
        let upstream = target.strip_prefix("http://").ok_or_else(|| {
            format!("`location {path}`: proxy_pass {target} is not http://UPSTREAM")
        })?;
        if upstream.contains('/') {
            return Err(format!(
                "`location {path}`: proxy_pass {target} has a URI part, which rewrites the path"
            ));
        }
        routes.push(Route {
            path,
            component: upstream.to_string(),
        });
        i = close + 1;
    }
    Ok(routes)
}

/// The index of the `}` closing the block opened at `open`.
fn block_end(tokens: &[String], open: usize) -> Option<usize> {
    let mut depth = 0;
    for (j, token) in tokens.iter().enumerate().skip(open) {
        match token.as_str() {
            "{" => depth += 1,
            "}" => {
                depth -= 1;
                if depth == 0 {
                    return Some(j);
                }
            }
            _ => {}
        }
    }
    None
}

/// Whether the block opened at `open` holds the `internal;` directive at its own level.
fn block_is_internal(tokens: &[String], open: usize) -> bool {
    let Some(close) = block_end(tokens, open) else {
        return false;
    };
    tokens[open + 1..close]
        .windows(2)
        .any(|pair| pair[0] == "internal" && pair[1] == ";")
}

/// nginx tokens: words, `{`, `}`, `;`; comments dropped.
fn tokenize(text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or_default();
        let mut word = String::new();
        for c in line.chars() {
            match c {
                '{' | '}' | ';' => {
                    if !word.is_empty() {
                        tokens.push(std::mem::take(&mut word));
                    }
                    tokens.push(c.to_string());
                }
                c if c.is_whitespace() => {
                    if !word.is_empty() {
                        tokens.push(std::mem::take(&mut word));
                    }
                }
                c => word.push(c),
            }
        }
        if !word.is_empty() {
            tokens.push(word);
        }
    }
    tokens
}

/// One path of an Ingress rule, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngressPath {
    pub host: Option<String>,
    pub path: Option<String>,
    pub path_type: String,
    pub service: Option<String>,
    pub port_number: Option<i32>,
    pub port_name: Option<String>,
}

/// Every path of every rule of an Ingress.
pub fn ingress_paths(ingress: &Ingress) -> Vec<IngressPath> {
    let mut out = Vec::new();
    let rules = ingress.spec.as_ref().and_then(|s| s.rules.as_ref());
    for rule in rules.into_iter().flatten() {
        let paths = rule
            .http
            .as_ref()
            .map(|h| h.paths.as_slice())
            .unwrap_or_default();
        for path in paths {
            let service = path.backend.service.as_ref();
            let port = service.and_then(|s| s.port.as_ref());
            out.push(IngressPath {
                host: rule.host.clone(),
                path: path.path.clone(),
                path_type: path.path_type.clone(),
                service: service.map(|s| s.name.clone()),
                port_number: port.and_then(|p| p.number),
                port_name: port.and_then(|p| p.name.clone()),
            });
        }
    }
    out
}

/// An Ingress path as a [`Route`]: the Service `auth-srv` is the component `auth`.
pub fn ingress_route(path: &IngressPath) -> Route {
    let service = path.service.clone().unwrap_or_default();
    Route {
        path: path.path.clone().unwrap_or_default(),
        component: service.strip_suffix("-srv").unwrap_or(&service).to_string(),
    }
}
