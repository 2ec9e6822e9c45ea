//! Reading a folder of template overrides: the one place the email module
//! touches the disk, so that `relance` and the functions read overrides alike.

use std::io;
use std::path::{Path, PathBuf};

use super::{RenderError, Templates};

/// Why a templates folder could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TemplateFolderError {
    /// The folder or one of its files cannot be read.
    #[error("cannot read the templates folder {}: {path}: {source}", folder.display())]
    Unreadable {
        folder: PathBuf,
        /// The file or folder at fault.
        path: String,
        #[source]
        source: io::Error,
    },
    /// A template is refused (it does not compile or render the samples).
    #[error("invalid template in {}: {source}", folder.display())]
    Invalid {
        folder: PathBuf,
        #[source]
        source: RenderError,
    },
}

impl Templates {
    /// The shipped templates with those of `folder` overriding them: every
    /// `*.txt` and `*.html` under it, not hidden, named by its path relative to
    /// the folder with `/` (`fr/subject.txt`); other files (a README, editor
    /// backups) are left alone.
    pub fn from_folder(folder: &Path) -> Result<Templates, TemplateFolderError> {
        let mut files = Vec::new();
        collect(folder, folder, &mut files).map_err(|(path, source)| {
            TemplateFolderError::Unreadable {
                folder: folder.to_owned(),
                path: path.display().to_string(),
                source,
            }
        })?;
        Templates::with_overrides(files).map_err(|source| TemplateFolderError::Invalid {
            folder: folder.to_owned(),
            source,
        })
    }
}

/// An io error with the path it happened at.
fn at(path: &Path) -> impl FnOnce(io::Error) -> (PathBuf, io::Error) + '_ {
    move |e| (path.to_owned(), e)
}

fn collect(
    root: &Path,
    dir: &Path,
    out: &mut Vec<(String, String)>,
) -> Result<(), (PathBuf, io::Error)> {
    for entry in std::fs::read_dir(dir).map_err(at(dir))? {
        let path = entry.map_err(at(dir))?.path();
        let hidden = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if hidden {
            continue;
        }
        if path.is_dir() {
            collect(root, &path, out)?;
        } else if path.extension().is_some_and(|e| e == "txt" || e == "html") {
            let name = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            let text = std::fs::read_to_string(&path).map_err(at(&path))?;
            out.push((name, text));
        }
    }
    Ok(())
}
