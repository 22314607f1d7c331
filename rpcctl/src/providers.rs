//! `rpcctl ls` and `rpcctl watch`: a service's providers as a registry lists them.

use std::time::Duration;

use futures_util::StreamExt;
use rpc::registry::{Instance, InstanceStream};

use crate::Failure;

pub async fn list(url: &str, service: &str, timeout: Duration) -> Result<(), Failure> {
    let mut sets = subscribe(url, service).await?;
    let set = tokio::time::timeout(timeout, sets.next())
        .await
        .map_err(|_| Failure::Unreachable(format!("registry {url} gave no answer within {timeout:?}")))?
        .ok_or_else(|| Failure::Unreachable(format!("registry {url} ended the subscription")))?;
    if set.instances.is_empty() {
        println!("no providers of {service} in {url}");
        return Ok(());
    }
    print_table(&set.instances);
    Ok(())
}

pub async fn watch(url: &str, service: &str, duration: Option<Duration>) -> Result<(), Failure> {
    let mut sets = subscribe(url, service).await?;
    let stop = async {
        match duration {
            Some(duration) => tokio::time::sleep(duration).await,
            None => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    };
    tokio::pin!(stop);
    let mut first = true;
    loop {
        let set = tokio::select! {
            () = &mut stop => return Ok(()),
            set = sets.next() => set.ok_or_else(|| Failure::Unreachable(format!("registry {url} ended the subscription")))?,
        };
        if first {
            println!("{} providers of {service}", set.instances.len());
            for instance in &set.instances {
                println!("  {}", describe(instance));
            }
            first = false;
            continue;
        }
        for instance in &set.added {
            println!("+ {}", describe(instance));
        }
        for instance in &set.removed {
            println!("- {}", describe(instance));
        }
    }
}

async fn subscribe(url: &str, service: &str) -> Result<InstanceStream, Failure> {
    let registry =
        rpc::registry::connect(url).await.map_err(|e| Failure::Unreachable(format!("registry {url}: {e}")))?;
    registry.subscribe(service).await.map_err(|e| Failure::Unreachable(format!("registry {url}: {e}")))
}

fn describe(instance: &Instance) -> String {
    format!(
        "{} {} weight={} version={:?} group={:?}",
        instance.address, instance.protocol, instance.weight, instance.version, instance.group
    )
}

fn print_table(instances: &[Instance]) {
    let header = ["ADDRESS", "PROTOCOL", "WEIGHT", "VERSION", "GROUP", "SERIALIZATION"];
    let rows: Vec<[String; 6]> = instances
        .iter()
        .map(|i| {
            [
                i.address.clone(),
                i.protocol.clone(),
                i.weight.to_string(),
                i.version.clone(),
                i.group.clone(),
                i.serialization.clone(),
            ]
        })
        .collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|c| rows.iter().map(|r| r[c].len()).chain([header[c].len()]).max().unwrap_or(0))
        .collect();
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells.iter().zip(&widths).map(|(cell, width)| format!("{cell:<width$}")).collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(header.to_vec());
    for row in &rows {
        line(row.iter().map(String::as_str).collect());
    }
}
