"""Online payment of CLP payment requests with Transbank's Webpay Plus."""
