//! Embeds the libtorch location into the binaries (rpath) so that nothing needs
//! exporting at run time, and force-links `libtorch_cuda` so CUDA is found when
//! the wheel carries it; also records where the default model lives.

use std::env;
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    if let Ok(lib) = env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
        // Without --no-as-needed the linker drops libtorch_cuda (no symbol of it
        // is referenced directly) and CUDA is then reported as unavailable.
        if Path::new(&lib).join("libtorch_cuda.so").exists() {
            println!("cargo:rustc-link-arg=-Wl,--no-as-needed");
            println!("cargo:rustc-link-arg=-L{lib}");
            println!("cargo:rustc-link-arg=-ltorch_cuda");
            println!("cargo:rustc-link-arg=-Wl,--as-needed");
        }
    }
    let manifest = env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    println!("cargo:rustc-env=MEMSCAN_PROJECT_DIR={manifest}");
}
