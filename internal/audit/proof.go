package audit

import (
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

// VerifyInclusion checks that leafHash is at index in the tree of size with root.
func VerifyInclusion(index, size uint64, leafHash []byte, hashes [][]byte, root []byte) error {
	return proof.VerifyInclusion(rfc6962.DefaultHasher, index, size, leafHash, hashes, root)
}

// VerifyConsistency checks that the tree of size2 with root2 extends the tree of size1 with root1.
func VerifyConsistency(size1, size2 uint64, hashes [][]byte, root1, root2 []byte) error {
	return proof.VerifyConsistency(rfc6962.DefaultHasher, size1, size2, hashes, root1, root2)
}
