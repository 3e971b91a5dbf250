using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using BitTorrentActors.Api.WebRoot;
using BitTorrentActors.Engine.Hosting;
using BitTorrentActors.Engine.Tests.Interop;

namespace BitTorrentActors.Engine.Tests.Rpc;

/// <summary>
/// <c>bta.rpc.web-root</c> / TRANSMISSION_WEB_HOME: a folder of static files at <c>/transmission/web/</c> that never
/// gives away anything outside it (dot segments, encoded dot segments, absolute paths, symlinks leading out), never
/// lists a folder, and sits behind the RPC's Host check and Basic auth.
/// </summary>
public sealed class WebRootTests : IDisposable
{
    private readonly TempDirectory _work = new("bta-webroot");
    private readonly string _root;
    private readonly string _secret;

    public WebRootTests()
    {
        _root = Path.Combine(_work.Path, "web");
        _work.Write("web/index.html", "<!DOCTYPE html><title>front-end</title>");
        _work.Write("web/style/app.css", "body{}");
        _work.Write("web/javascript/app.js", "var x = 1;");
        _work.Write("web/images/logo.png", [0x89, (byte)'P', (byte)'N', (byte)'G']);
        _work.Write("web/images/favicon.ico", [0, 0, 1, 0]);
        _work.Write("web/sub/page.txt", "inner");
        _secret = _work.Write("secret/passwd", "root:x:0:0");
        _work.Write("web/linked/inside-target.txt", "reached through a link inside");
    }

    public void Dispose() => _work.Dispose();

    private WebRootFolder Folder() => WebRootFolder.Resolve(_root, null)!;

    [Theory]
    [InlineData("..")]
    [InlineData("../secret/passwd")]
    [InlineData("sub/../../secret/passwd")]
    [InlineData("./index.html")]
    [InlineData("sub/./page.txt")]
    [InlineData("/etc/passwd")]
    [InlineData("//etc/passwd")]
    [InlineData("sub//page.txt")]
    [InlineData("sub\\page.txt")]
    [InlineData("..\\secret\\passwd")]
    [InlineData("C:/Windows/win.ini")]
    [InlineData("index.html\0.png")]
    [InlineData("%2e%2e/secret/passwd")]
    [InlineData("..%2fsecret%2fpasswd")]
    public void A_path_that_leaves_the_folder_or_is_not_plain_names_nothing(string relative)
    {
        Assert.Null(Folder().Find(relative));
    }

    [Fact]
    public void Files_are_found_and_the_folder_itself_is_its_index_but_a_subfolder_is_not_listed()
    {
        var folder = Folder();

        Assert.Equal(Path.Combine(folder.Root, "index.html"), folder.Find(""));
        Assert.Equal(Path.Combine(folder.Root, "style", "app.css"), folder.Find("style/app.css"));
        Assert.Equal(Path.Combine(folder.Root, "sub", "page.txt"), folder.Find("sub/page.txt"));
        Assert.Null(folder.Find("sub"));
        Assert.Null(folder.Find("sub/"));
        Assert.Null(folder.Find("missing.html"));
        Assert.Null(folder.Find("sub/page.txt/more"));
    }

    [Fact]
    public void A_symlink_out_of_the_folder_is_refused_and_one_inside_it_is_followed()
    {
        File.CreateSymbolicLink(Path.Combine(_root, "passwd-link"), _secret);
        Directory.CreateSymbolicLink(Path.Combine(_root, "secret-dir"), Path.GetDirectoryName(_secret)!);
        Directory.CreateSymbolicLink(Path.Combine(_root, "etc"), "/etc");
        File.CreateSymbolicLink(Path.Combine(_root, "relative-link"), "../secret/passwd");
        File.CreateSymbolicLink(Path.Combine(_root, "loop-a"), Path.Combine(_root, "loop-b"));
        File.CreateSymbolicLink(Path.Combine(_root, "loop-b"), Path.Combine(_root, "loop-a"));
        File.CreateSymbolicLink(Path.Combine(_root, "dangling"), Path.Combine(_root, "nowhere"));
        File.CreateSymbolicLink(Path.Combine(_root, "good-link.txt"), Path.Combine(_root, "linked", "inside-target.txt"));
        Directory.CreateSymbolicLink(Path.Combine(_root, "good-dir"), Path.Combine(_root, "linked"));
        var folder = Folder();

        Assert.Null(folder.Find("passwd-link"));
        Assert.Null(folder.Find("secret-dir/passwd"));
        Assert.Null(folder.Find("etc/hostname"));
        Assert.Null(folder.Find("relative-link"));
        Assert.Null(folder.Find("loop-a"));
        Assert.Null(folder.Find("dangling"));
        Assert.Equal(Path.Combine(folder.Root, "linked", "inside-target.txt"), folder.Find("good-link.txt"));
        Assert.Equal(Path.Combine(folder.Root, "linked", "inside-target.txt"), folder.Find("good-dir/inside-target.txt"));
    }

    [Fact]
    public void A_root_reached_through_a_link_serves_its_files()
    {
        var link = Path.Combine(_work.Path, "web-link");
        Directory.CreateSymbolicLink(link, _root);

        var folder = WebRootFolder.Resolve(link, null)!;

        Assert.Equal(Path.GetFullPath(_root), folder.Root);
        Assert.NotNull(folder.Find("javascript/app.js"));
    }

    [Fact]
    public void The_environment_variable_wins_over_the_setting_and_a_bad_folder_is_a_config_error_naming_its_source()
    {
        var other = _work.Path;

        Assert.Null(WebRootFolder.Resolve("", null));
        Assert.Null(WebRootFolder.Resolve("  ", ""));
        Assert.Equal(Path.GetFullPath(_root), WebRootFolder.Resolve(_root, null)!.Root);
        Assert.Equal(Path.GetFullPath(other), WebRootFolder.Resolve(_root, other)!.Root);
        Assert.Equal(Path.GetFullPath(_root), WebRootFolder.Resolve("", _root)!.Root);

        var missing = Assert.Throws<BtaConfigException>(() => WebRootFolder.Resolve(Path.Combine(_work.Path, "nope"), null));
        Assert.Contains("bta.rpc.web-root", missing.Message, StringComparison.Ordinal);
        var relative = Assert.Throws<BtaConfigException>(() => WebRootFolder.Resolve("", "web"));
        Assert.Contains(WebRootFolder.EnvironmentVariable, relative.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_setting_is_read_from_hocon()
    {
        var settings = BtaSettings.FromConfig(TestSupport.TestTorrents.LoadConfig($"bta.rpc.web-root = \"{_root}\""));
        Assert.Equal(_root, settings.Rpc.WebRoot);
        Assert.Equal("", BtaSettings.FromConfig(TestSupport.TestTorrents.LoadConfig("")).Rpc.WebRoot);
    }

    [Fact]
    public async Task The_folder_is_served_with_content_types_redirects_and_404s_and_only_to_get()
    {
        await using var host = await RpcTestHost.StartAsync($"bta.rpc.web-root = \"{_root}\"");
        var origin = new Uri(new Uri(host.Url), "/");
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = origin, Timeout = TimeSpan.FromSeconds(30) };

        using var index = await http.GetAsync("/transmission/web/");
        Assert.Equal(HttpStatusCode.OK, index.StatusCode);
        Assert.Equal("text/html", index.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<title>front-end</title>", await index.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("nosniff", index.Headers.GetValues("X-Content-Type-Options").Single());
        foreach (var (path, type) in new[]
        {
            ("/transmission/web/index.html", "text/html"), ("/transmission/web/style/app.css", "text/css"),
            ("/transmission/web/javascript/app.js", "text/javascript"), ("/transmission/web/images/logo.png", "image/png"),
            ("/transmission/web/images/favicon.ico", "image/x-icon"), ("/transmission/web/index.html?_=123", "text/html"),
        })
        {
            using var file = await http.GetAsync(path);
            Assert.True(file.StatusCode == HttpStatusCode.OK, $"{path}: {(int)file.StatusCode}");
            Assert.Equal(type, file.Content.Headers.ContentType?.MediaType);
        }
        foreach (var path in new[] { "/transmission", "/transmission/", "/transmission/web" })
        {
            using var redirect = await http.GetAsync(path);
            Assert.Equal(HttpStatusCode.MovedPermanently, redirect.StatusCode);
            Assert.Equal("/transmission/web/", redirect.Headers.Location?.OriginalString);
        }
        foreach (var path in new[] { "/transmission/web/missing.js", "/transmission/web/sub/", "/transmission/web/sub" })
        {
            using var missing = await http.GetAsync(path);
            Assert.True(missing.StatusCode == HttpStatusCode.NotFound, $"{path}: {(int)missing.StatusCode}");
            Assert.DoesNotContain("page.txt", await missing.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        using var head = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/transmission/web/style/app.css"));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(6, head.Content.Headers.ContentLength);
        using var post = await http.PostAsync("/transmission/web/index.html", new StringContent("x"));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
        // The RPC beside it is unchanged.
        using var client = host.Client();
        await client.SucceedAsync("session-get");
    }

    [Theory]
    [InlineData("/transmission/web/../../../../../..%s")]
    [InlineData("/transmission/web/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e%s")]
    [InlineData("/transmission/web/%2E%2E%2F%2E%2E%2F%2E%2E%2F%2E%2E%2F%2E%2E%2F%2E%2E%s")]
    [InlineData("/transmission/web/..%2f..%2f..%2f..%2f..%2f..%s")]
    [InlineData("/transmission/web/..%5c..%5c..%5c..%5c..%5c..%s")]
    [InlineData("/transmission/web/%s")]
    [InlineData("/transmission/web//%s")]
    public async Task Traversal_over_http_never_reaches_a_file_outside_the_folder(string template)
    {
        await using var host = await RpcTestHost.StartAsync($"bta.rpc.web-root = \"{_root}\"");
        var uri = new Uri(host.Url);
        // The target as sent, byte for byte (HttpClient would normalise the dot segments away before sending).
        var target = template.Replace("%s", _secret.Replace('\\', '/'), StringComparison.Ordinal);

        var (status, body) = await RawGetAsync(uri.Port, target);

        Assert.NotEqual(200, status);
        Assert.DoesNotContain("root:x:0:0", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Web_files_are_behind_the_host_check_and_basic_auth_but_need_no_session_id()
    {
        await using var host = await RpcTestHost.StartAsync($"""
            bta.rpc.web-root = "{_root}"
            bta.rpc.username = "alice"
            bta.rpc.password = "s3cret"
            """);
        var origin = new Uri(new Uri(host.Url), "/");
        using var http = new HttpClient { BaseAddress = origin, Timeout = TimeSpan.FromSeconds(30) };

        using var anonymous = await http.GetAsync("/transmission/web/");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Contains("Basic", anonymous.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        using var redirect = await http.GetAsync("/transmission/");
        Assert.Equal(HttpStatusCode.Unauthorized, redirect.StatusCode);

        using var wrong = new HttpRequestMessage(HttpMethod.Get, "/transmission/web/");
        wrong.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("alice:nope")));
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.SendAsync(wrong)).StatusCode);

        using var right = new HttpRequestMessage(HttpMethod.Get, "/transmission/web/");
        right.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("alice:s3cret")));
        using var served = await http.SendAsync(right);
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);

        using var rebinding = new HttpRequestMessage(HttpMethod.Get, "/transmission/web/");
        rebinding.Headers.Host = "attacker.example";
        rebinding.Headers.Authorization = right.Headers.Authorization;
        Assert.Equal(HttpStatusCode.MisdirectedRequest, (await http.SendAsync(rebinding)).StatusCode);
    }

    [Fact]
    public async Task Without_a_web_root_the_web_path_is_a_404_saying_how_to_name_one()
    {
        await using var host = await RpcTestHost.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(new Uri(host.Url), "/"), Timeout = TimeSpan.FromSeconds(30) };

        using var response = await http.GetAsync("/transmission/web/index.html");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("bta.rpc.web-root", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    /// <summary>One HTTP/1.1 GET over a raw socket to 127.0.0.1, the request line exactly as given.</summary>
    private static async Task<(int Status, string Body)> RawGetAsync(int port, string target)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port, timeout.Token);
        var stream = tcp.GetStream();
        var request = Encoding.ASCII.GetBytes($"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
        await stream.WriteAsync(request, timeout.Token);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var text = await reader.ReadToEndAsync(timeout.Token);
        var status = text.Length >= 12 && int.TryParse(text.AsSpan(9, 3), out var code) ? code : -1;
        return (status, text);
    }
}
