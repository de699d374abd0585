//! The handshake: who is connecting, with which contracts, protocol version and codec.

use std::collections::BTreeMap;

use super::PROTOCOL_VERSION;
use super::frame::Hello;
use crate::error::IpcError;

/// Refuses a peer whose protocol version differs from ours.
pub(crate) fn check_protocol(hello: &Hello) -> Result<(), IpcError> {
    if hello.protocol == PROTOCOL_VERSION {
        Ok(())
    } else {
        Err(IpcError::VersionMismatch {
            ours: format!("protocol {PROTOCOL_VERSION}"),
            theirs: format!("protocol {}", hello.protocol),
        })
    }
}

/// Refuses a peer that was built from a different version of a contract both sides know.
/// Contracts only one side knows are fine (their channels simply have no handler).
pub(crate) fn check_contracts(
    ours: &BTreeMap<String, String>,
    theirs: &BTreeMap<String, String>,
) -> Result<(), IpcError> {
    for (namespace, their_hash) in theirs {
        if let Some(our_hash) = ours.get(namespace) {
            if our_hash != their_hash {
                return Err(IpcError::VersionMismatch {
                    ours: format!("contract `{namespace}` {our_hash}"),
                    theirs: format!("contract `{namespace}` {their_hash}"),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mismatch_names_both_hashes() {
        let ours = BTreeMap::from([("todos".to_string(), "aaaa".to_string())]);
        let theirs = BTreeMap::from([
            ("todos".to_string(), "bbbb".to_string()),
            ("other".to_string(), "cccc".to_string()),
        ]);
        let error = check_contracts(&ours, &theirs).unwrap_err();
        let text = error.to_string();
        assert!(text.contains("aaaa") && text.contains("bbbb"), "{text}");
        assert!(check_contracts(&ours, &ours).is_ok());
    }
}
