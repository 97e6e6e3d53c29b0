//! `tessera`: see `tessera --help`. Everything lives in the library; this only parses and runs.

/// mimalloc instead of the system allocator: under load the router spent about a third of its
/// CPU in glibc's malloc and free (docs/performance.md has the profile and the figures).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    tessera::cli::main()
}
