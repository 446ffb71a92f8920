//! `multipart/form-data` bodies, parsed while they stream in; files go straight to disk.
//!
//! Owns: the size/time-bounded body stream, the multipart parse (multer) and the temp
//! files (named like PHP's, `phpXXXXXX` in the upload dir).
//! Does not own: turning fields into PHP arrays (`form` + `php::request`).
//!
//! Invariant: every temp file is owned by an `UploadedFile` from the moment it exists, so
//! a rejected or abandoned request removes its files when it is dropped.

use std::path::Path;

use bytes::{Bytes, BytesMut};
use futures_util::Stream;
use tokio::io::AsyncWriteExt;

use super::body_memory::BodyMemory;
use super::exchange::{BodyError, RequestBody, UploadedFile};
use super::incoming::DataFrames;
use crate::config::Limits;

/// PHP's `UPLOAD_ERR_NO_FILE`: a file input was submitted without a file.
const UPLOAD_ERR_NO_FILE: i64 = 4;

/// A body's data as a stream of chunks, for multer.
pub fn bounded_stream<'a>(
    frames: DataFrames<'a>,
) -> impl Stream<Item = Result<Bytes, BodyError>> + Send + 'a {
    futures_util::stream::unfold(Some(frames), |state| async move {
        let mut frames = state?;
        match frames.next().await {
            Ok(Some(data)) => Some((Ok(data), Some(frames))),
            Ok(None) => None,
            Err(e) => Some((Err(e), None)),
        }
    })
}

fn from_multer(e: multer::Error) -> BodyError {
    match e {
        multer::Error::StreamReadFailed(inner) => match inner.downcast::<BodyError>() {
            Ok(b) => *b,
            Err(other) => BodyError::Io(other.to_string()),
        },
        multer::Error::StreamSizeExceeded { .. } | multer::Error::FieldSizeExceeded { .. } => {
            BodyError::TooLarge
        }
        other => BodyError::Malformed(other.to_string()),
    }
}

/// The file name PHP reports: the last path segment of what the client sent.
fn base_name(raw: &str) -> &str {
    raw.rsplit(['/', '\\']).next().unwrap_or(raw)
}

/// Parses a multipart body, writing each file part to its own temp file in `dir`.
pub async fn spool(
    frames: DataFrames<'_>,
    boundary: String,
    limits: &Limits,
    dir: &Path,
    memory: &mut BodyMemory<'_>,
) -> Result<RequestBody, BodyError> {
    // A field's value can be the whole body at most.
    let ceiling = frames.ceiling();
    let stream = bounded_stream(frames);
    let mut mp = multer::Multipart::new(stream, boundary);
    let mut fields: Vec<(String, Bytes)> = Vec::new();
    let mut files: Vec<UploadedFile> = Vec::new();
    // The fields' values are held in memory (files go to disk): the room their buffers
    // take, each buffer's taken before it grows.
    let mut in_memory = 0u64;

    while let Some(mut field) = mp.next_field().await.map_err(from_multer)? {
        if fields.len() + files.len() >= limits.max_input_vars {
            return Err(BodyError::TooManyFields);
        }
        let name = field.name().unwrap_or("").to_owned();
        let Some(raw_file_name) = field.file_name().map(str::to_owned) else {
            let mut value = BytesMut::new();
            while let Some(chunk) = field.chunk().await.map_err(from_multer)? {
                let rest = ceiling.saturating_sub(usize::try_from(in_memory).unwrap_or(usize::MAX));
                if !memory.grow_beside(in_memory, &mut value, chunk.len(), rest) {
                    return Err(BodyError::NoRoom);
                }
                value.extend_from_slice(&chunk);
            }
            in_memory += value.capacity() as u64;
            fields.push((name, value.freeze()));
            continue;
        };
        let content_type = field.content_type().map(|m| m.to_string()).unwrap_or_default();

        if raw_file_name.is_empty() {
            // A file input left empty: PHP reports UPLOAD_ERR_NO_FILE and stores nothing.
            while field.chunk().await.map_err(from_multer)?.is_some() {}
            files.push(UploadedFile {
                field: name,
                name: String::new(),
                full_path: String::new(),
                content_type,
                path: Default::default(),
                size: 0,
                error: UPLOAD_ERR_NO_FILE,
            });
            continue;
        }
        if files.iter().filter(|f| f.error == 0).count() >= limits.max_file_uploads {
            return Err(BodyError::TooManyFiles);
        }

        let tmp = tempfile::Builder::new()
            .prefix("php")
            .rand_bytes(6)
            .tempfile_in(dir)
            .map_err(|e| BodyError::Storage(format!("{}: {e}", dir.display())))?;
        let (std_file, path) = tmp.keep().map_err(|e| BodyError::Storage(e.to_string()))?;
        let mut upload = UploadedFile {
            field: name,
            name: base_name(&raw_file_name).to_owned(),
            full_path: raw_file_name,
            content_type,
            path,
            size: 0,
            error: 0,
        };
        let mut file = tokio::fs::File::from_std(std_file);
        // The upload is owned before the first write so that any error removes the file.
        let result: Result<(), BodyError> = async {
            while let Some(chunk) = field.chunk().await.map_err(from_multer)? {
                file.write_all(&chunk).await.map_err(|e| BodyError::Storage(e.to_string()))?;
                upload.size += chunk.len() as u64;
            }
            file.flush().await.map_err(|e| BodyError::Storage(e.to_string()))
        }
        .await;
        files.push(upload);
        result?;
    }
    Ok(RequestBody::Multipart { fields, files })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_name_strips_directories() {
        assert_eq!(base_name("a.txt"), "a.txt");
        assert_eq!(base_name("dir/sub/a.txt"), "a.txt");
        assert_eq!(base_name("C:\\Users\\x\\a.txt"), "a.txt");
        assert_eq!(base_name("dir/"), "");
    }
}
