//! Java peers: small programs under `tests/java/`, compiled here with the machine's JDK
//! against Debian's jars (`/usr/share/java`), and run as child processes.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::servers::TempDir;

/// JDK 17 keeps java.lang closed to reflection; Java's Hessian (like Dubbo) needs it open.
pub const OPENS: [&str; 6] = [
    "--add-opens",
    "java.base/java.lang=ALL-UNNAMED",
    "--add-opens",
    "java.base/java.util=ALL-UNNAMED",
    "--add-opens",
    "java.base/java.math=ALL-UNNAMED",
];

/// Compiled classes, and the classpath (Debian jars + them) to run them with.
pub struct Program {
    classes: TempDir,
    jars: Vec<PathBuf>,
}

impl Program {
    /// Compiles `sources` (paths under `tests/java/`) against `jars` (names in /usr/share/java).
    pub fn compile(sources: &[&str], jars: &[&str]) -> Program {
        let jars: Vec<PathBuf> = jars.iter().map(|jar| Path::new("/usr/share/java").join(jar)).collect();
        for jar in &jars {
            assert!(jar.exists(), "no {}: run ./scripts/test.sh (it installs the Java peers)", jar.display());
        }
        let classes = TempDir::new("java");
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/java");
        let status = Command::new("javac")
            .arg("-cp")
            .arg(std::env::join_paths(&jars).expect("jar paths"))
            .arg("-d")
            .arg(classes.path())
            .args(sources.iter().map(|source| root.join(source)))
            .status()
            .expect("run javac (the JDK)");
        assert!(status.success(), "javac failed");
        Program { classes, jars }
    }

    /// `java -cp … main args…`, with piped stdio.
    pub fn command(&self, main: &str, args: &[&str]) -> Command {
        let mut classpath = self.jars.clone();
        classpath.push(self.classes.path().to_path_buf());
        let mut command = Command::new("java");
        command
            .args(OPENS)
            .arg("-cp")
            .arg(std::env::join_paths(classpath).expect("classpath"))
            .arg(main)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }
}
