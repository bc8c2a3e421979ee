// Oracle for GOWS: whatsmeow's own sqlstore creates a device in gows.db and reads it back with
// GetFirstDevice, printing the device's fields as JSON (test/oracles/gows.test.ts compares them).
//
//	gows-oracle create <gows.db>   creates a logged-in device, prints it
//	gows-oracle read <gows.db>     prints the first device
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"

	"go.mau.fi/whatsmeow/proto/waAdv"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/store/sqlstore"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/util/keys"
	waLog "go.mau.fi/whatsmeow/util/log"
	"google.golang.org/protobuf/proto"
	_ "modernc.org/sqlite"
)

type deviceJSON struct {
	ID             string `json:"id"`
	LID            string `json:"lid"`
	RegistrationID uint32 `json:"registrationId"`
	NoiseKey       string `json:"noiseKey"`
	IdentityKey    string `json:"identityKey"`
	SignedPreKey   string `json:"signedPreKey"`
	SignedPreKeyID uint32 `json:"signedPreKeyId"`
	SignedPreKeySig string `json:"signedPreKeySignature"`
	AdvSecretKey   string `json:"advSecretKey"`
	Account        string `json:"account"`
	Platform       string `json:"platform"`
	BusinessName   string `json:"businessName"`
	PushName       string `json:"pushName"`
}

func b64(data []byte) string { return base64.StdEncoding.EncodeToString(data) }

func describe(device *store.Device) deviceJSON {
	out := deviceJSON{
		RegistrationID: device.RegistrationID,
		NoiseKey:       b64(device.NoiseKey.Priv[:]) + "/" + b64(device.NoiseKey.Pub[:]),
		IdentityKey:    b64(device.IdentityKey.Priv[:]) + "/" + b64(device.IdentityKey.Pub[:]),
		SignedPreKey:   b64(device.SignedPreKey.Priv[:]) + "/" + b64(device.SignedPreKey.Pub[:]),
		SignedPreKeyID: device.SignedPreKey.KeyID,
		SignedPreKeySig: b64(device.SignedPreKey.Signature[:]),
		AdvSecretKey:   b64(device.AdvSecretKey),
		Platform:       device.Platform,
		BusinessName:   device.BusinessName,
		PushName:       device.PushName,
	}
	if device.ID != nil {
		out.ID = device.ID.String()
	}
	out.LID = device.LID.String()
	if device.Account != nil {
		raw, _ := proto.Marshal(device.Account)
		out.Account = b64(raw)
	}
	return out
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gows-oracle:", err)
	os.Exit(1)
}

func main() {
	if len(os.Args) != 3 || (os.Args[1] != "create" && os.Args[1] != "read") {
		fmt.Fprintln(os.Stderr, "usage: gows-oracle create|read <gows.db>")
		os.Exit(2)
	}
	ctx := context.Background()
	address := "file:" + os.Args[2] + "?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)"
	container, err := sqlstore.New(ctx, "sqlite", address, waLog.Noop)
	if err != nil {
		fail(err)
	}
	defer container.Close()
	var device *store.Device
	if os.Args[1] == "create" {
		device = container.NewDevice()
		jid := types.NewADJID("5511912345678", 0, 12)
		lid := types.NewADJID("123456789012345", 0, 12)
		lid.Server = types.HiddenUserServer
		device.ID = &jid
		device.LID = lid
		device.Platform = "smba"
		device.BusinessName = "Oracle Business"
		device.PushName = "Oracle"
		device.Account = &waAdv.ADVSignedDeviceIdentity{
			Details:             []byte("details-of-the-device"),
			AccountSignatureKey: keys.NewKeyPair().Pub[:],
			AccountSignature:    make([]byte, 64),
			DeviceSignature:     make([]byte, 64),
		}
		if err := device.Save(ctx); err != nil {
			fail(err)
		}
	}
	device, err = container.GetFirstDevice(ctx)
	if err != nil {
		fail(err)
	}
	if device.ID == nil {
		fail(fmt.Errorf("no device in %s", os.Args[2]))
	}
	text, _ := json.Marshal(describe(device))
	fmt.Println(string(text))
}
