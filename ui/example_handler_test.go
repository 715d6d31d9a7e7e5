package ui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/gomonnto/gomonnto/backend"
	"github.com/gomonnto/gomonnto/core"
	_ "github.com/gomonnto/gomonnto/cpu"
	"github.com/gomonnto/gomonnto/models"
	"github.com/gomonnto/gomonnto/ui"
)

// The UI's HTTP API without a browser or a port: mount Handler (here on
// an httptest recorder), call Run to step the network, and drive it with
// the same requests the page sends. Every request shows a token: the
// control token may command, the view token only watch, none is refused.
func ExampleUI_Handler() {
	be, _ := backend.Open("cpu", backend.Options{})
	defer be.Close()
	net, _ := core.NewNetwork(core.Config{Backend: be, Seed: 1})
	models.Basic(net, models.BasicOptions{Example: 3}) // 10 x 10 "my_neurons"
	u, err := ui.New(net, ui.DefaultModules([]string{"activity"}, []string{"W"}),
		ui.Options{Title: "My_Network_UI", Token: "secret", ViewToken: "watch", StartPaused: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	h := u.Handler()
	do := func(method, path, body string) (int, string) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(method, path, strings.NewReader(body)))
		return w.Code, strings.TrimSpace(w.Body.String())
	}
	fmt.Println(do("GET", "/api/state?token=secret", ""))
	fmt.Println(do("GET", "/api/state", ""))
	fmt.Println(do("POST", "/api/cmd?token=watch", `{"cmd":"step","n":1}`))

	var layout struct {
		Title   string
		Control bool
		Groups  []struct {
			Name string
			N    int
		}
	}
	_, body := do("GET", "/api/layout?token=secret", "")
	json.Unmarshal([]byte(body), &layout)
	fmt.Printf("%+v\n", layout)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- u.Run(ctx) }()
	fmt.Println(do("POST", "/api/cmd?token=secret", `{"cmd":"step","n":0}`))
	fmt.Println(do("POST", "/api/cmd?token=secret", `{"cmd":"step","n":25}`))
	var st struct {
		Iteration int
		Paused    bool
	}
	for deadline := time.Now().Add(10 * time.Second); st.Iteration < 25 && time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		_, body := do("GET", "/api/state?token=watch", "")
		json.Unmarshal([]byte(body), &st)
	}
	fmt.Printf("%+v\n", st)
	cancel()
	fmt.Println(<-done, net.Iteration)
	// Output:
	// 200 {"clients":0,"iteration":0,"paused":true}
	// 401 ui: missing or wrong token; open the URL the program printed (it ends in ?token=...)
	// 403 ui: this client may only watch (read-only token or -ui-readonly)
	// {Title:My_Network_UI Control:true Groups:[{Name:my_neurons N:100}]}
	// 400 ui: step: n=0; give a positive number of steps
	// 200 {"ok":true}
	// {Iteration:25 Paused:true}
	// <nil> 25
}
