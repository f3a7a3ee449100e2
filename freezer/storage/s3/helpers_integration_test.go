//go:build integration

package s3

import "github.com/minio/minio-go/v7"

func minioStat() minio.StatObjectOptions { return minio.StatObjectOptions{} }
