// Oracle for GOWS: whatsmeow's own sqlstore creates a device in gows.db and reads it back with
// GetFirstDevice, printing the device's fields as JSON (test/oracles/gows.test.ts compares them).
//
//	gows-oracle create <gows.db>   creates a logged-in device, prints it
//	gows-oracle read <gows.db>     prints the first device
//	gows-oracle seed <gows.db>     creates a logged-in device with key material (sessions, pre-keys,
//	                               sender keys, app-state keys and versions, LID mappings, identities,
//	                               contacts, chat settings, message secrets, privacy tokens), prints dump
//	gows-oracle dump sqlite <gows.db> | dump postgres <url>
//	                               opens the store with whatsmeow (that dialect) and prints the device and
//	                               all of that key material as JSON, plus the schema version it found
//	                               before whatsmeow's upgrade ran and after (equal: no migration ran)
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"

	"database/sql"
	"sort"
	"time"

	_ "github.com/lib/pq"
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
	if len(os.Args) == 4 && os.Args[1] == "dump" {
		dump(os.Args[2], os.Args[3])
		return
	}
	if len(os.Args) == 3 && os.Args[1] == "seed" {
		seed(os.Args[2])
		return
	}
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

func sqliteAddress(file string) string {
	return "file:" + file + "?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)"
}

// The fixed names the seeded key material is kept under (seed writes them, dump reads them back).
var (
	peers       = []string{"5511900000001@s.whatsapp.net", "5511900000002@s.whatsapp.net", "123456789000001@lid"}
	groups      = []string{"120363000000000001@g.us", "120363000000000002@g.us"}
	appStates   = []string{"critical_block", "regular_high"}
	appKeyIDs   = [][]byte{{0, 0, 0, 1}, {0, 0, 0, 2}, {0, 0, 0, 3}}
	lidPairs    = [][2]string{{"200000000000001", "5511900000001"}, {"200000000000002", "5511900000002"}}
	secretChat  = types.NewJID("120363000000000001", types.GroupServer)
	secretFrom  = types.NewJID("5511900000001", types.DefaultUserServer)
	secretIDs   = []string{"3EB0AAAAAAAAAAAAAAAA", "3EB0BBBBBBBBBBBBBBBB"}
	preKeyCount = uint32(30)
)

func random(n int) []byte {
	out := make([]byte, n)
	for i := range out {
		out[i] = byte((i*131 + n*7 + int(time.Now().UnixNano())) % 251)
	}
	return out
}

func seed(file string) {
	ctx := context.Background()
	container, err := sqlstore.New(ctx, "sqlite", sqliteAddress(file), waLog.Noop)
	if err != nil {
		fail(err)
	}
	device := container.NewDevice()
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
		AccountSignature:    random(64),
		DeviceSignature:     random(64),
	}
	must(device.Save(ctx))
	for index, peer := range peers {
		var identity [32]byte
		copy(identity[:], keys.NewKeyPair().Pub[:])
		must(device.Identities.PutIdentity(ctx, peer+":0", identity))
		must(device.Sessions.PutSession(ctx, peer+":0", append([]byte("session-record-"), random(200+index)...)))
	}
	_, err = device.PreKeys.GetOrGenPreKeys(ctx, preKeyCount)
	must(err)
	must(device.PreKeys.MarkPreKeysAsUploaded(ctx, preKeyCount/2))
	for _, group := range groups {
		for _, peer := range peers[:2] {
			must(device.SenderKeys.PutSenderKey(ctx, group, peer+":0", append([]byte("sender-key-"), random(120)...)))
		}
	}
	for index, id := range appKeyIDs {
		must(device.AppStateKeys.PutAppStateSyncKey(ctx, id, store.AppStateSyncKey{Data: random(32 + index), Fingerprint: random(12), Timestamp: 1760000000000 + int64(index)}))
	}
	for index, name := range appStates {
		var hash [128]byte
		copy(hash[:], random(128))
		must(device.AppState.PutAppStateVersion(ctx, name, uint64(40+index), hash))
		must(device.AppState.PutAppStateMutationMACs(ctx, name, uint64(40+index), []store.AppStateMutationMAC{
			{IndexMAC: random(32), ValueMAC: random(32)},
		}))
	}
	for _, pair := range lidPairs {
		must(device.LIDs.PutLIDMapping(ctx, types.NewJID(pair[0], types.HiddenUserServer), types.NewJID(pair[1], types.DefaultUserServer)))
	}
	contact := types.NewJID("5511900000001", types.DefaultUserServer)
	must(device.Contacts.PutContactName(ctx, contact, "Ana Lima", "Ana"))
	_, _, err = device.Contacts.PutPushName(ctx, contact, "Ana ✓")
	must(err)
	must(device.ChatSettings.PutPinned(ctx, contact, true))
	must(device.ChatSettings.PutMutedUntil(ctx, secretChat, time.Unix(1900000000, 0)))
	for _, id := range secretIDs {
		must(device.MsgSecrets.PutMessageSecret(ctx, secretChat, secretFrom, id, random(32)))
	}
	must(device.PrivacyTokens.PutPrivacyTokens(ctx, store.PrivacyToken{User: contact, Token: random(24), Timestamp: time.Unix(1760000123, 0)}))
	must(container.Close())
	dump("sqlite", file)
}

func must(err error) {
	if err != nil {
		fail(err)
	}
}

type dumpJSON struct {
	VersionBefore [2]int            `json:"versionBefore"`
	VersionAfter  [2]int            `json:"versionAfter"`
	Device        deviceJSON        `json:"device"`
	Identities    map[string]bool   `json:"identities"`
	Sessions      map[string]string `json:"sessions"`
	PreKeys       []string          `json:"preKeys"`
	Uploaded      int               `json:"uploadedPreKeys"`
	SenderKeys    map[string]string `json:"senderKeys"`
	AppStateKeys  map[string]string `json:"appStateKeys"`
	LatestKeyID   string            `json:"latestAppStateKeyId"`
	AppStates     map[string]string `json:"appStateVersions"`
	LIDs          map[string]string `json:"lidMappings"`
	Contacts      map[string]string `json:"contacts"`
	ChatSettings  map[string]string `json:"chatSettings"`
	Secrets       map[string]string `json:"messageSecrets"`
	PrivacyToken  string            `json:"privacyToken"`
	Devices       int               `json:"devices"`
}

func version(db *sql.DB) [2]int {
	var out [2]int
	var compat sql.NullInt64
	if err := db.QueryRow("SELECT version, compat FROM whatsmeow_version").Scan(&out[0], &compat); err != nil {
		return [2]int{-1, -1}
	}
	out[1] = int(compat.Int64)
	return out
}

func dump(dialect, address string) {
	ctx := context.Background()
	driver := "postgres"
	if dialect == "sqlite" {
		driver = "sqlite"
		address = sqliteAddress(address)
	}
	db, err := sql.Open(driver, address)
	must(err)
	before := version(db)
	container := sqlstore.NewWithDB(db, driver, waLog.Noop)
	must(container.Upgrade(ctx))
	out := dumpJSON{VersionBefore: before, VersionAfter: version(db)}
	all, err := container.GetAllDevices(ctx)
	must(err)
	out.Devices = len(all)
	device, err := container.GetFirstDevice(ctx)
	must(err)
	if device.ID == nil {
		fail(fmt.Errorf("no device in %s", dialect))
	}
	out.Device = describe(device)
	out.Identities, out.Sessions, out.SenderKeys = map[string]bool{}, map[string]string{}, map[string]string{}
	out.AppStateKeys, out.AppStates, out.LIDs = map[string]string{}, map[string]string{}, map[string]string{}
	out.Contacts, out.ChatSettings, out.Secrets = map[string]string{}, map[string]string{}, map[string]string{}
	var zero [32]byte
	for _, peer := range peers {
		address := peer + ":0"
		untrusted, err := device.Identities.IsTrustedIdentity(ctx, address, zero)
		must(err)
		out.Identities[address] = !untrusted // a stored identity makes another key untrusted
		session, err := device.Sessions.GetSession(ctx, address)
		must(err)
		out.Sessions[address] = b64(session)
	}
	for id := uint32(1); id <= preKeyCount; id++ {
		key, err := device.PreKeys.GetPreKey(ctx, id)
		must(err)
		if key == nil {
			out.PreKeys = append(out.PreKeys, fmt.Sprintf("%d:missing", id))
			continue
		}
		out.PreKeys = append(out.PreKeys, fmt.Sprintf("%d:%s/%s", key.KeyID, b64(key.Priv[:]), b64(key.Pub[:])))
	}
	out.Uploaded, err = device.PreKeys.UploadedPreKeyCount(ctx)
	must(err)
	for _, group := range groups {
		for _, peer := range peers[:2] {
			key, err := device.SenderKeys.GetSenderKey(ctx, group, peer+":0")
			must(err)
			out.SenderKeys[group+"/"+peer] = b64(key)
		}
	}
	for _, id := range appKeyIDs {
		key, err := device.AppStateKeys.GetAppStateSyncKey(ctx, id)
		must(err)
		if key != nil {
			out.AppStateKeys[b64(id)] = fmt.Sprintf("%s/%s/%d", b64(key.Data), b64(key.Fingerprint), key.Timestamp)
		}
	}
	latest, err := device.AppStateKeys.GetLatestAppStateSyncKeyID(ctx)
	must(err)
	out.LatestKeyID = b64(latest)
	for _, name := range appStates {
		version, hash, err := device.AppState.GetAppStateVersion(ctx, name)
		must(err)
		out.AppStates[name] = fmt.Sprintf("%d/%s", version, b64(hash[:]))
	}
	for _, pair := range lidPairs {
		pn, err := device.LIDs.GetPNForLID(ctx, types.NewJID(pair[0], types.HiddenUserServer))
		must(err)
		lid, err := device.LIDs.GetLIDForPN(ctx, types.NewJID(pair[1], types.DefaultUserServer))
		must(err)
		out.LIDs[pair[0]] = pn.String() + "|" + lid.String()
	}
	contacts, err := device.Contacts.GetAllContacts(ctx)
	must(err)
	for jid, info := range contacts {
		out.Contacts[jid.String()] = fmt.Sprintf("%v|%s|%s|%s|%s", info.Found, info.FirstName, info.FullName, info.PushName, info.BusinessName)
	}
	for _, chat := range []types.JID{types.NewJID("5511900000001", types.DefaultUserServer), secretChat} {
		settings, err := device.ChatSettings.GetChatSettings(ctx, chat)
		must(err)
		out.ChatSettings[chat.String()] = fmt.Sprintf("%v|%d|%v|%v", settings.Found, settings.MutedUntil.Unix(), settings.Pinned, settings.Archived)
	}
	for _, id := range secretIDs {
		secret, _, err := device.MsgSecrets.GetMessageSecret(ctx, secretChat, secretFrom, id)
		must(err)
		out.Secrets[id] = b64(secret)
	}
	token, err := device.PrivacyTokens.GetPrivacyToken(ctx, types.NewJID("5511900000001", types.DefaultUserServer))
	must(err)
	if token != nil {
		out.PrivacyToken = fmt.Sprintf("%s|%d", b64(token.Token), token.Timestamp.Unix())
	}
	sort.Strings(out.PreKeys)
	must(container.Close())
	text, _ := json.Marshal(out)
	fmt.Println(string(text))
}
