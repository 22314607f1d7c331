//! The commands that go through a provider's admin port: `describe`, `online`, `offline`.
//! A GET over HTTP/1.1 with `Connection: close` is all they need.

use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::Failure;

const TIMEOUT: Duration = Duration::from_secs(10);

/// `path` on the admin port at `admin`: the status code and the body.
async fn get(admin: &str, path: &str, token: Option<&str>) -> Result<(u16, String), Failure> {
    let unreachable = |e: std::io::Error| Failure::Unreachable(format!("admin port {admin}: {e}"));
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(admin).await.map_err(unreachable)?;
        let authorization = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
        let request = format!("GET {path} HTTP/1.1\r\nHost: {admin}\r\n{authorization}Connection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.map_err(unreachable)?;
        let mut reply = Vec::new();
        stream.read_to_end(&mut reply).await.map_err(unreachable)?;
        Ok::<_, Failure>(reply)
    };
    let reply = tokio::time::timeout(TIMEOUT, exchange)
        .await
        .map_err(|_| Failure::Unreachable(format!("admin port {admin} did not answer within {TIMEOUT:?}")))??;
    let reply = String::from_utf8_lossy(&reply);
    let (head, body) = reply.split_once("\r\n\r\n").unwrap_or((&reply, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| Failure::Unreachable(format!("{admin} is not an admin port (no HTTP status)")))?;
    Ok((status, body.to_string()))
}

fn refused(admin: &str, path: &str, status: u16, body: &str) -> Failure {
    let body = body.trim();
    match status {
        401 => Failure::BadInput(format!("{admin}{path}: {body} (set --token or RPCCTL_ADMIN_TOKEN)")),
        _ => Failure::Answered(format!("{admin}{path} answered {status}: {body}")),
    }
}

/// `rpcctl online` / `rpcctl offline`.
pub async fn switch(admin: &str, path: &str, token: Option<&str>) -> Result<(), Failure> {
    let (status, body) = get(admin, path, token).await?;
    if status != 200 {
        return Err(refused(admin, path, status, &body));
    }
    println!("{}", body.trim());
    Ok(())
}

/// `rpcctl describe`: the services, each method with its arguments and kind.
pub async fn describe(admin: &str, only: Option<&str>, token: Option<&str>) -> Result<(), Failure> {
    let (status, body) = get(admin, "/services", token).await?;
    if status != 200 {
        return Err(refused(admin, "/services", status, &body));
    }
    let described: Value =
        serde_json::from_str(&body).map_err(|e| Failure::Answered(format!("{admin}/services is not JSON: {e}")))?;
    let services = described["services"].as_array().cloned().unwrap_or_default();
    let shown: Vec<&Value> = services.iter().filter(|s| only.is_none_or(|name| s["name"] == name)).collect();
    if let (Some(name), true) = (only, shown.is_empty()) {
        return Err(Failure::BadInput(format!("{admin} hosts no service {name:?}")));
    }
    let online = if described["online"] == true { "online" } else { "offline" };
    println!("{admin}: {} services, {online}", shown.len());
    for service in shown {
        let text = |v: &Value| v.as_str().unwrap_or("").to_string();
        let version = text(&service["version"]);
        let group = text(&service["group"]);
        println!(
            "\n{}{}{} ({})",
            text(&service["name"]),
            if version.is_empty() { String::new() } else { format!(" version {version}") },
            if group.is_empty() { String::new() } else { format!(" group {group}") },
            text(&service["serialization"])
        );
        for method in service["methods"].as_array().into_iter().flatten() {
            let arguments: Vec<String> = method["arguments"].as_array().into_iter().flatten().map(&text).collect();
            let mut notes = vec![text(&method["kind"])];
            if method["idempotent"] == true {
                notes.push("idempotent".into());
            }
            if method["oneway"] == true {
                notes.push("oneway".into());
            }
            println!("  {}({})  [{}]", text(&method["name"]), arguments.join(", "), notes.join(", "));
        }
    }
    Ok(())
}
