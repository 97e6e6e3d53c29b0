//! `tessera`: see `tessera --help`. Everything lives in the library; this only parses and runs.

fn main() -> std::process::ExitCode {
    tessera::cli::main()
}
