<?xml version="1.0" encoding="UTF-8"?>
<!--
  The store dialect's XML as pages for a browser (XSLT 1.0, no script).

  The store adds <?xml-stylesheet type="text/xsl" href="/_xsl/store.xsl"?> to a reply when the
  request's Accept prefers text/html over application/xml, and <?fetchgate-api-root PREFIX?>:
  the relative way back to /api/ from the requested path, so every link below works on the
  store server (/api/…) and through the media server (/store/api/…) alike. Links carry the
  .xml suffix, which the store strips before routing.
-->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:output method="html" encoding="UTF-8" indent="no" doctype-system="about:legacy-compat"/>

  <xsl:variable name="root" select="normalize-space(/processing-instruction('fetchgate-api-root'))"/>

  <!-- ===================================================================== page frame -->

  <xsl:template match="/">
    <xsl:variable name="kind" select="local-name(*)"/>
    <xsl:variable name="title">
      <xsl:choose>
        <xsl:when test="account">Account</xsl:when>
        <xsl:when test="items">Items</xsl:when>
        <xsl:when test="item">Item <xsl:value-of select="item/sku"/></xsl:when>
        <xsl:when test="orders">Orders</xsl:when>
        <xsl:when test="order">Order <xsl:value-of select="order/id"/></xsl:when>
        <xsl:when test="downloads">Downloads</xsl:when>
        <xsl:when test="download">Download <xsl:value-of select="download/id"/></xsl:when>
        <xsl:when test="uploads">Uploads</xsl:when>
        <xsl:when test="upload">Upload <xsl:value-of select="upload/id"/></xsl:when>
        <xsl:when test="files">Files</xsl:when>
        <xsl:when test="message">Message</xsl:when>
        <xsl:otherwise><xsl:value-of select="$kind"/></xsl:otherwise>
      </xsl:choose>
    </xsl:variable>
    <xsl:variable name="section">
      <xsl:choose>
        <xsl:when test="item or items or files">items</xsl:when>
        <xsl:when test="order or orders">orders</xsl:when>
        <xsl:when test="download or downloads">downloads</xsl:when>
        <xsl:when test="upload or uploads">uploads</xsl:when>
        <xsl:when test="account">account</xsl:when>
      </xsl:choose>
    </xsl:variable>
    <html lang="en">
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <meta name="color-scheme" content="light dark"/>
        <title><xsl:value-of select="$title"/> · Fetchgate store</title>
        <link rel="stylesheet" href="/_xsl/store.css"/>
        <link rel="icon" href="/_xsl/favicon.svg" type="image/svg+xml"/>
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        <header>
          <p class="brand">Fetchgate store</p>
          <nav aria-label="Store">
            <ul>
              <xsl:call-template name="nav"><xsl:with-param name="to" select="'account'"/><xsl:with-param name="label" select="'Account'"/><xsl:with-param name="section" select="$section"/></xsl:call-template>
              <xsl:call-template name="nav"><xsl:with-param name="to" select="'items'"/><xsl:with-param name="label" select="'Items'"/><xsl:with-param name="section" select="$section"/></xsl:call-template>
              <xsl:call-template name="nav"><xsl:with-param name="to" select="'orders'"/><xsl:with-param name="label" select="'Orders'"/><xsl:with-param name="section" select="$section"/></xsl:call-template>
              <xsl:call-template name="nav"><xsl:with-param name="to" select="'downloads'"/><xsl:with-param name="label" select="'Downloads'"/><xsl:with-param name="section" select="$section"/></xsl:call-template>
              <xsl:call-template name="nav"><xsl:with-param name="to" select="'uploads'"/><xsl:with-param name="label" select="'Uploads'"/><xsl:with-param name="section" select="$section"/></xsl:call-template>
            </ul>
          </nav>
        </header>
        <main id="main">
          <h1><xsl:value-of select="$title"/></h1>
          <xsl:apply-templates select="*"/>
        </main>
        <footer>
          <p>This page is the store API's XML reply, drawn for a browser. API clients get the plain XML.</p>
        </footer>
      </body>
    </html>
  </xsl:template>

  <xsl:template name="nav">
    <xsl:param name="to"/>
    <xsl:param name="label"/>
    <xsl:param name="section"/>
    <li>
      <a href="{$root}{$to}.xml">
        <xsl:if test="$to = $section"><xsl:attribute name="aria-current">page</xsl:attribute></xsl:if>
        <xsl:value-of select="$label"/>
      </a>
    </li>
  </xsl:template>

  <!-- ===================================================================== account -->

  <xsl:template match="account">
    <dl class="facts">
      <xsl:call-template name="fact"><xsl:with-param name="label" select="'Name'"/><xsl:with-param name="value" select="name"/></xsl:call-template>
      <xsl:call-template name="fact"><xsl:with-param name="label" select="'Email'"/><xsl:with-param name="value" select="email"/></xsl:call-template>
      <xsl:call-template name="fact"><xsl:with-param name="label" select="'Web site'"/><xsl:with-param name="value" select="url"/></xsl:call-template>
      <xsl:call-template name="fact"><xsl:with-param name="label" select="'Orders expire after'"/><xsl:with-param name="value" select="concat(order_expiration_in_hours, ' hours')"/></xsl:call-template>
      <xsl:call-template name="fact"><xsl:with-param name="label" select="'Downloads per item'"/><xsl:with-param name="value" select="download_limit_per_item"/></xsl:call-template>
      <xsl:call-template name="fact"><xsl:with-param name="label" select="'API key'"/><xsl:with-param name="value" select="api_key"/><xsl:with-param name="code" select="true()"/></xsl:call-template>
      <div>
        <dt>API token</dt>
        <dd>
          <details>
            <summary>Show the token</summary>
            <code><xsl:value-of select="api_token"/></code>
          </details>
        </dd>
      </div>
    </dl>
  </xsl:template>

  <!-- ===================================================================== items -->

  <xsl:template match="items">
    <xsl:choose>
      <xsl:when test="item">
        <div class="scroll" role="region" aria-labelledby="items-caption" tabindex="0">
          <table>
            <caption id="items-caption"><xsl:call-template name="count"><xsl:with-param name="n" select="count(item)"/><xsl:with-param name="one" select="'item'"/><xsl:with-param name="many" select="'items'"/></xsl:call-template></caption>
            <thead>
              <tr>
                <th scope="col">SKU</th>
                <th scope="col">Name</th>
                <th scope="col" class="num">Price</th>
                <th scope="col" class="num">Orders</th>
                <th scope="col" class="num">Downloads</th>
                <th scope="col">File</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              <xsl:for-each select="item">
                <tr>
                  <th scope="row"><a><xsl:call-template name="href"><xsl:with-param name="before" select="'items/'"/><xsl:with-param name="id" select="sku"/></xsl:call-template><xsl:value-of select="sku"/></a></th>
                  <td><xsl:value-of select="name"/></td>
                  <td class="num"><xsl:value-of select="format-number(price, '0.00')"/></td>
                  <td class="num"><xsl:value-of select="order_count"/></td>
                  <td class="num"><a><xsl:call-template name="href"><xsl:with-param name="before" select="'items/'"/><xsl:with-param name="id" select="sku"/><xsl:with-param name="after" select="'/downloads'"/></xsl:call-template><xsl:value-of select="download_count"/><span class="visually-hidden"> downloads of <xsl:value-of select="sku"/></span></a></td>
                  <td><xsl:call-template name="file-cell"/></td>
                  <td><xsl:call-template name="time"><xsl:with-param name="t" select="created_at"/></xsl:call-template></td>
                </tr>
              </xsl:for-each>
            </tbody>
          </table>
        </div>
      </xsl:when>
      <xsl:otherwise><p class="empty">No items yet.</p></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template name="file-cell">
    <xsl:choose>
      <xsl:when test="string(filename)">
        <a><xsl:call-template name="href"><xsl:with-param name="before" select="'items/'"/><xsl:with-param name="id" select="sku"/><xsl:with-param name="after" select="'/files'"/></xsl:call-template><xsl:value-of select="filename"/></a>
        <span class="muted"><xsl:text> (</xsl:text><xsl:call-template name="size"><xsl:with-param name="bytes" select="size_bytes"/></xsl:call-template>)</span>
      </xsl:when>
      <xsl:otherwise><span class="muted">no file</span></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template match="item">
    <dl class="facts">
      <xsl:call-template name="fact"><xsl:with-param name="label" select="'SKU'"/><xsl:with-param name="value" select="sku"/><xsl:with-param name="code" select="true()"/></xsl:call-template>
      <xsl:call-template name="fact"><xsl:with-param name="label" select="'Name'"/><xsl:with-param name="value" select="name"/></xsl:call-template>
      <xsl:call-template name="fact"><xsl:with-param name="label" select="'Price'"/><xsl:with-param name="value" select="format-number(price, '0.00')"/></xsl:call-template>
      <xsl:call-template name="fact"><xsl:with-param name="label" select="'Orders'"/><xsl:with-param name="value" select="order_count"/></xsl:call-template>
      <div>
        <dt>Downloads</dt>
        <dd><a><xsl:call-template name="href"><xsl:with-param name="before" select="'items/'"/><xsl:with-param name="id" select="sku"/><xsl:with-param name="after" select="'/downloads'"/></xsl:call-template><xsl:value-of select="download_count"/> (see the log)</a></dd>
      </div>
      <div>
        <dt>File</dt>
        <dd><xsl:call-template name="file-cell"/></dd>
      </div>
      <div>
        <dt>Permalink</dt>
        <dd><code><xsl:value-of select="permalink"/></code></dd>
      </div>
      <div>
        <dt>Created</dt>
        <dd><xsl:call-template name="time"><xsl:with-param name="t" select="created_at"/></xsl:call-template></dd>
      </div>
    </dl>
    <xsl:if test="downloads/download">
      <h2>Latest downloads</h2>
      <xsl:apply-templates select="downloads"/>
    </xsl:if>
  </xsl:template>

  <!-- ===================================================================== files and uploads -->

  <xsl:template match="files | uploads">
    <xsl:choose>
      <xsl:when test="*">
        <div class="scroll" role="region" aria-labelledby="uploads-caption" tabindex="0">
          <table>
            <caption id="uploads-caption"><xsl:call-template name="count"><xsl:with-param name="n" select="count(*)"/><xsl:with-param name="one" select="'file'"/><xsl:with-param name="many" select="'files'"/></xsl:call-template></caption>
            <thead>
              <tr>
                <th scope="col">Upload</th>
                <th scope="col">File name</th>
                <th scope="col">Type</th>
                <th scope="col" class="num">Size</th>
                <th scope="col">Uploaded</th>
              </tr>
            </thead>
            <tbody>
              <xsl:for-each select="*">
                <tr>
                  <th scope="row"><a><xsl:call-template name="href"><xsl:with-param name="before" select="'uploads/'"/><xsl:with-param name="id" select="id"/></xsl:call-template><xsl:value-of select="id"/></a></th>
                  <td><xsl:value-of select="filename"/></td>
                  <td><xsl:value-of select="content_type"/></td>
                  <td class="num"><xsl:call-template name="size"><xsl:with-param name="bytes" select="size_bytes"/></xsl:call-template></td>
                  <td><xsl:call-template name="time"><xsl:with-param name="t" select="uploaded_at"/></xsl:call-template></td>
                </tr>
              </xsl:for-each>
            </tbody>
          </table>
        </div>
      </xsl:when>
      <xsl:otherwise><p class="empty">No files yet.</p></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template match="upload">
    <dl class="facts">
      <xsl:call-template name="fact"><xsl:with-param name="label" select="'File name'"/><xsl:with-param name="value" select="filename"/></xsl:call-template>
      <xsl:call-template name="fact"><xsl:with-param name="label" select="'Type'"/><xsl:with-param name="value" select="content_type"/></xsl:call-template>
      <div>
        <dt>Size</dt>
        <dd><xsl:call-template name="size"><xsl:with-param name="bytes" select="size_bytes"/></xsl:call-template></dd>
      </div>
      <xsl:call-template name="fact"><xsl:with-param name="label" select="'From address'"/><xsl:with-param name="value" select="ip_address"/></xsl:call-template>
      <div>
        <dt>Uploaded</dt>
        <dd><xsl:call-template name="time"><xsl:with-param name="t" select="uploaded_at"/></xsl:call-template></dd>
      </div>
    </dl>
  </xsl:template>

  <!-- ===================================================================== orders -->

  <xsl:template match="orders">
    <xsl:choose>
      <xsl:when test="order">
        <div class="scroll" role="region" aria-labelledby="orders-caption" tabindex="0">
          <table>
            <caption id="orders-caption"><xsl:call-template name="count"><xsl:with-param name="n" select="count(order)"/><xsl:with-param name="one" select="'order'"/><xsl:with-param name="many" select="'orders'"/></xsl:call-template></caption>
            <thead>
              <tr>
                <th scope="col">Order</th>
                <th scope="col">Title</th>
                <th scope="col">Customer</th>
                <th scope="col" class="num">Items</th>
                <th scope="col" class="num">Downloads</th>
                <th scope="col">Expires</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              <xsl:for-each select="order">
                <tr>
                  <th scope="row"><a><xsl:call-template name="href"><xsl:with-param name="before" select="'orders/'"/><xsl:with-param name="id" select="id"/></xsl:call-template><xsl:value-of select="id"/></a></th>
                  <td><xsl:value-of select="title"/></td>
                  <td><xsl:call-template name="customer"/></td>
                  <td class="num"><xsl:value-of select="item_count"/></td>
                  <td class="num"><a><xsl:call-template name="href"><xsl:with-param name="before" select="'orders/'"/><xsl:with-param name="id" select="id"/><xsl:with-param name="after" select="'/downloads'"/></xsl:call-template><xsl:value-of select="download_count"/><span class="visually-hidden"> downloads of order <xsl:value-of select="id"/></span></a></td>
                  <td><xsl:call-template name="expiry"/></td>
                  <td><xsl:call-template name="time"><xsl:with-param name="t" select="created_at"/></xsl:call-template></td>
                </tr>
              </xsl:for-each>
            </tbody>
          </table>
        </div>
      </xsl:when>
      <xsl:otherwise><p class="empty">No orders yet.</p></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template name="customer">
    <xsl:value-of select="normalize-space(concat(first_name, ' ', last_name))"/>
    <xsl:if test="string(email)">
      <xsl:if test="normalize-space(concat(first_name, last_name))"><br/></xsl:if>
      <span class="muted"><xsl:value-of select="email"/></span>
    </xsl:if>
  </xsl:template>

  <xsl:template name="expiry">
    <xsl:choose>
      <xsl:when test="string(expiration_date)"><xsl:call-template name="time"><xsl:with-param name="t" select="expiration_date"/></xsl:call-template></xsl:when>
      <xsl:otherwise><span class="muted">never</span></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template match="order">
    <dl class="facts">
      <xsl:call-template name="fact"><xsl:with-param name="label" select="'Title'"/><xsl:with-param name="value" select="title"/></xsl:call-template>
      <div>
        <dt>Customer</dt>
        <dd><xsl:call-template name="customer"/></dd>
      </div>
      <div>
        <dt>Downloads</dt>
        <dd><a><xsl:call-template name="href"><xsl:with-param name="before" select="'orders/'"/><xsl:with-param name="id" select="id"/><xsl:with-param name="after" select="'/downloads'"/></xsl:call-template><xsl:value-of select="download_count"/> (see the log)</a></dd>
      </div>
      <xsl:if test="string(download_limit)">
        <xsl:call-template name="fact"><xsl:with-param name="label" select="'Downloads per item'"/><xsl:with-param name="value" select="download_limit"/></xsl:call-template>
      </xsl:if>
      <div>
        <dt>Expires</dt>
        <dd><xsl:call-template name="expiry"/></dd>
      </div>
      <div>
        <dt>Created</dt>
        <dd><xsl:call-template name="time"><xsl:with-param name="t" select="created_at"/></xsl:call-template></dd>
      </div>
    </dl>
    <h2>Order items</h2>
    <xsl:choose>
      <xsl:when test="order_items/order_item">
        <div class="scroll" role="region" aria-labelledby="order-items-caption" tabindex="0">
          <table>
            <caption id="order-items-caption">What the customer may download, and how often</caption>
            <thead>
              <tr>
                <th scope="col">Item</th>
                <th scope="col">Name</th>
                <th scope="col" class="num">Remaining</th>
                <th scope="col" class="num">Downloaded</th>
                <th scope="col">Customer link</th>
              </tr>
            </thead>
            <tbody>
              <xsl:for-each select="order_items/order_item">
                <tr>
                  <th scope="row"><a><xsl:call-template name="href"><xsl:with-param name="before" select="'items/'"/><xsl:with-param name="id" select="sku"/></xsl:call-template><xsl:value-of select="sku"/></a></th>
                  <td><xsl:value-of select="item_name"/></td>
                  <td class="num"><xsl:value-of select="downloads_remaining"/></td>
                  <td class="num"><xsl:value-of select="download_count"/></td>
                  <td><a class="link" href="{link}">customer link<span class="visually-hidden"> for <xsl:value-of select="sku"/></span></a></td>
                </tr>
              </xsl:for-each>
            </tbody>
          </table>
        </div>
      </xsl:when>
      <xsl:otherwise><p class="empty">This order has no items.</p></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- ===================================================================== downloads -->

  <xsl:template match="downloads">
    <xsl:choose>
      <xsl:when test="download">
        <div class="scroll" role="region" aria-labelledby="downloads-caption" tabindex="0">
          <table>
            <caption id="downloads-caption"><xsl:call-template name="count"><xsl:with-param name="n" select="count(download)"/><xsl:with-param name="one" select="'download'"/><xsl:with-param name="many" select="'downloads'"/></xsl:call-template>, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Download</th>
                <th scope="col">File</th>
                <th scope="col">Item</th>
                <th scope="col">Order</th>
                <th scope="col">Address</th>
                <th scope="col" class="num">Size</th>
                <th scope="col">When</th>
              </tr>
            </thead>
            <tbody>
              <xsl:for-each select="download">
                <tr>
                  <th scope="row"><a><xsl:call-template name="href"><xsl:with-param name="before" select="'downloads/'"/><xsl:with-param name="id" select="id"/></xsl:call-template><xsl:value-of select="id"/></a></th>
                  <td><xsl:value-of select="filename"/></td>
                  <td><xsl:call-template name="item-link"/></td>
                  <td><xsl:call-template name="order-link"/></td>
                  <td><xsl:value-of select="ip_address"/></td>
                  <td class="num"><xsl:call-template name="size"><xsl:with-param name="bytes" select="size_bytes | size"/></xsl:call-template></td>
                  <td><xsl:call-template name="time"><xsl:with-param name="t" select="downloaded_at"/></xsl:call-template></td>
                </tr>
              </xsl:for-each>
            </tbody>
          </table>
        </div>
      </xsl:when>
      <xsl:otherwise><p class="empty">No downloads yet.</p></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template name="item-link">
    <xsl:choose>
      <xsl:when test="string(item_sku)"><a><xsl:call-template name="href"><xsl:with-param name="before" select="'items/'"/><xsl:with-param name="id" select="item_sku"/></xsl:call-template><xsl:value-of select="item_sku"/></a></xsl:when>
      <xsl:otherwise><span class="muted">none</span></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template name="order-link">
    <xsl:choose>
      <xsl:when test="string(order_id)"><a><xsl:call-template name="href"><xsl:with-param name="before" select="'orders/'"/><xsl:with-param name="id" select="order_id"/></xsl:call-template><xsl:value-of select="order_id"/></a></xsl:when>
      <xsl:otherwise><span class="muted">permalink</span></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template match="download">
    <dl class="facts">
      <xsl:call-template name="fact"><xsl:with-param name="label" select="'File'"/><xsl:with-param name="value" select="filename"/></xsl:call-template>
      <div>
        <dt>Item</dt>
        <dd><xsl:call-template name="item-link"/></dd>
      </div>
      <div>
        <dt>Order</dt>
        <dd><xsl:call-template name="order-link"/></dd>
      </div>
      <xsl:call-template name="fact"><xsl:with-param name="label" select="'Address'"/><xsl:with-param name="value" select="ip_address"/></xsl:call-template>
      <div>
        <dt>Size</dt>
        <dd><xsl:call-template name="size"><xsl:with-param name="bytes" select="size_bytes"/></xsl:call-template></dd>
      </div>
      <div>
        <dt>When</dt>
        <dd><xsl:call-template name="time"><xsl:with-param name="t" select="downloaded_at"/></xsl:call-template></dd>
      </div>
    </dl>
  </xsl:template>

  <!-- ===================================================================== messages and errors -->

  <xsl:template match="message">
    <p class="message" role="status"><xsl:value-of select="."/></p>
    <p><a href="{$root}items.xml">Back to the items</a></p>
  </xsl:template>

  <xsl:template match="*">
    <pre class="raw"><xsl:value-of select="."/></pre>
  </xsl:template>

  <!-- ===================================================================== small parts -->

  <xsl:template name="fact">
    <xsl:param name="label"/>
    <xsl:param name="value"/>
    <xsl:param name="code" select="false()"/>
    <div>
      <dt><xsl:value-of select="$label"/></dt>
      <dd>
        <xsl:choose>
          <xsl:when test="not(string($value))"><span class="muted">none</span></xsl:when>
          <xsl:when test="$code"><code><xsl:value-of select="$value"/></code></xsl:when>
          <xsl:otherwise><xsl:value-of select="$value"/></xsl:otherwise>
        </xsl:choose>
      </dd>
    </div>
  </xsl:template>

  <!-- href = the API root, `before`, the id with what would end or bend the path escaped, `after`, .xml -->
  <xsl:template name="href">
    <xsl:param name="before"/>
    <xsl:param name="id"/>
    <xsl:param name="after" select="''"/>
    <xsl:attribute name="href">
      <xsl:value-of select="concat($root, $before)"/>
      <xsl:call-template name="escape"><xsl:with-param name="s" select="string($id)"/></xsl:call-template>
      <xsl:value-of select="concat($after, '.xml')"/>
    </xsl:attribute>
  </xsl:template>

  <!-- SKUs and order ids never hold '/', but may hold '%', '#', '?' or '\' (which browsers read as '/'). -->
  <xsl:template name="escape">
    <xsl:param name="s"/>
    <xsl:choose>
      <xsl:when test="not(contains($s, '%') or contains($s, '#') or contains($s, '?') or contains($s, '\'))">
        <xsl:value-of select="$s"/>
      </xsl:when>
      <xsl:otherwise>
        <xsl:variable name="c" select="substring($s, 1, 1)"/>
        <xsl:choose>
          <xsl:when test="$c = '%'">%25</xsl:when>
          <xsl:when test="$c = '#'">%23</xsl:when>
          <xsl:when test="$c = '?'">%3F</xsl:when>
          <xsl:when test="$c = '\'">%5C</xsl:when>
          <xsl:otherwise><xsl:value-of select="$c"/></xsl:otherwise>
        </xsl:choose>
        <xsl:call-template name="escape"><xsl:with-param name="s" select="substring($s, 2)"/></xsl:call-template>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template name="count">
    <xsl:param name="n"/>
    <xsl:param name="one"/>
    <xsl:param name="many"/>
    <xsl:value-of select="$n"/>
    <xsl:text> </xsl:text>
    <xsl:choose>
      <xsl:when test="$n = 1"><xsl:value-of select="$one"/></xsl:when>
      <xsl:otherwise><xsl:value-of select="$many"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- 2008-12-28T18:47:56+00:00 → 2008-12-28 18:47 UTC (the store writes UTC only). -->
  <xsl:template name="time">
    <xsl:param name="t"/>
    <xsl:choose>
      <xsl:when test="string($t)">
        <time datetime="{$t}"><xsl:value-of select="concat(substring($t, 1, 10), ' ', substring($t, 12, 5), ' UTC')"/></time>
      </xsl:when>
      <xsl:otherwise><span class="muted">none</span></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template name="size">
    <xsl:param name="bytes"/>
    <xsl:variable name="n" select="number($bytes)"/>
    <xsl:choose>
      <xsl:when test="string($n) = 'NaN'"><span class="muted">unknown</span></xsl:when>
      <xsl:when test="$n &lt; 1024"><xsl:value-of select="$n"/> B</xsl:when>
      <xsl:when test="$n &lt; 1048576"><xsl:value-of select="format-number($n div 1024, '0.0')"/> KB</xsl:when>
      <xsl:when test="$n &lt; 1073741824"><xsl:value-of select="format-number($n div 1048576, '0.0')"/> MB</xsl:when>
      <xsl:otherwise><xsl:value-of select="format-number($n div 1073741824, '0.00')"/> GB</xsl:otherwise>
    </xsl:choose>
  </xsl:template>
</xsl:stylesheet>
