// The sandbox's object storage: an S3-compatible server (rclone's gofakes3) that checks AWS Signature V4 on
// every request, presigned URLs included (their signature and X-Amz-Expires), as S3 does. Objects are kept
// in memory for the life of the process, which outlives the sandbox's Mastodon services and reboots.
package main

import (
	"context"
	"flag"
	"log"
	"net/http"
	"os"
	"strings"

	"github.com/rclone/gofakes3"
	"github.com/rclone/gofakes3/s3mem"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:9000", "address to listen on")
	bucket := flag.String("bucket", "", "bucket created at start")
	keyFile := flag.String("key-file", "", "file holding the access key id and the secret access key, one a line")
	flag.Parse()

	key, err := os.ReadFile(*keyFile)
	if err != nil {
		log.Fatal(err)
	}
	lines := strings.Fields(string(key))
	if len(lines) != 2 {
		log.Fatalf("%s: want the access key id and the secret access key, one a line", *keyFile)
	}

	backend := s3mem.New()
	if err := backend.CreateBucket(context.Background(), *bucket); err != nil {
		log.Fatal(err)
	}
	faker := gofakes3.New(backend, gofakes3.WithV4Auth(map[string]string{lines[0]: lines[1]}))
	log.Printf("listening on %s, bucket %s", *listen, *bucket)
	log.Fatal(http.ListenAndServe(*listen, faker.Server()))
}
